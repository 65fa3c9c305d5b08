"""SQL building blocks shared by the sources and the results store (SQLAlchemy only).

:mod:`~drift.sql.timekeys` compiles epoch microseconds and window indexes for
every dialect; :mod:`~drift.sql.secrets` masks passwords in URLs and text;
:mod:`~drift.sql.instants` normalises instants to UTC.
"""
