"""graviton capacity: stand up the Graviton twin of an x86 ECS capacity provider, and take the
x86 one down when nothing needs it.

``twin`` holds the pure decisions (which AMI parameter, which instance types, which fields are
copied or mapped), ``plan`` reads AWS into a :class:`~graviton.capacity.twin.TwinPlan`,
``create`` carries it out with an undo log, ``decommission`` takes a provider down.
"""
