"""Invalid monitor YAML files, shown by Airflow as this DAG file's import error.

It defines no DAG. The drift_monitors_shard_NN.py files build the valid monitors
and leave the invalid ones out, so one bad file never hides the others; a
missing shard file is reported here too.
"""

from drift.airflow import check_fleet

check_fleet(__file__)
