"""``graviton savings``: the on-demand cost of a cluster's x86 capacity before and after Graviton.

inventory (boto3: cluster -> capacity providers -> auto scaling groups -> instance types)
-> mapping (x86 type -> same-size Graviton type) -> pricing (shipped dated table or the AWS
Price List API) -> report (pure sums, per provider and total, and the staged-shift plan)
-> render (table, text, JSON).
"""
