"""One shard of the monitor DAGs: those of dags/monitors/ whose name hashes here.

See drift.airflow.sharding: every shard file is this same call; its number is its name.
"""

from airflow.sdk import get_parsing_context

from drift.airflow import build_shard

globals().update(build_shard(__file__, only=get_parsing_context().dag_id))
