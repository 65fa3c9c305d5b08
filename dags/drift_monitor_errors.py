"""Invalid monitor YAML files, shown by Airflow as this DAG file's import error.

It defines no DAG. drift_monitors.py builds the valid monitors and leaves the
invalid ones out, so one bad file never hides the others.
"""

from drift.airflow import check_monitor_files, monitors_dir

check_monitor_files(monitors_dir(__file__))
