"""The chaos run (`make chaos`): the whole stack under a workload and random combined faults,
then an audit of every acknowledged operation. See chaos/run.py."""
