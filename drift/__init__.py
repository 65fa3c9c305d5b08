"""airflow-drift: data-drift monitoring for Apache Airflow 3."""
