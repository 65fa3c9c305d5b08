# airflow-drift on the official Apache Airflow image. Build it from the source tree:
#   docker build -t airflow-drift:latest .      (or let docker compose build it)
# The Airflow version is pinned to the one this package is developed and tested against
# (pyproject.toml: apache-airflow>=3.3,<3.4); tests/deploy checks that they agree.
FROM apache/airflow:3.3.2

# The package's source, owned by the airflow user (GID 0, as the image expects).
COPY --chown=airflow:root pyproject.toml README.md /opt/airflow-drift/
COPY --chown=airflow:root drift /opt/airflow-drift/drift
COPY --chown=airflow:root migrations /opt/airflow-drift/migrations

# Installed as the airflow user, with apache-airflow pinned to the image's own version so
# pip can never up- or downgrade it (the way the image's "extending" docs say). Everything
# is fetched at build time; nothing is installed when a container starts. The postgres extra
# brings psycopg 3, which the results and demo URLs (postgresql+psycopg://) use.
USER airflow
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/airflow-drift[postgres]"

# The monitor DAGs, so that the image alone can run them (Kubernetes executor pods, a
# cluster without a shared dags folder); docker-compose.yml mounts ./dags over them.
COPY --chown=airflow:root dags /opt/airflow/dags
