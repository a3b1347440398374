"""Lab stand-in for Apache Mesos + Marathon: Marathon's v2 REST API and Mesos' state API.

Only for the offline lab, where neither can be installed. It schedules Docker containers onto
the lab agents' Docker engines and keeps its state in ZooKeeper. It is not Marathon.
"""

VERSION = "1.11.24-standin"
MESOS_VERSION = "1.11.0-standin"
