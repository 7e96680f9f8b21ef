"""Turning one real POST /orders/ into a pgbench script: the database's floor for that request."""

import re

# The first id each table hands out while the request is captured: distinctive numbers,
# so that every later use of a created row's id can be found and replaced by a variable.
CAPTURE_IDS = {
    "orders_order": 7_100_001,
    "orders_orderpaymentdetails": 7_200_001,
    "notifications_notification": 7_300_001,
    "outbox_outboxmessage": 7_400_001,
    "orders_orderitem": 7_500_001,
}
_INSERT = re.compile(r'^INSERT INTO "(?P<table>\w+)"')
_PAYMENT_REFERENCE = re.compile(r"'pay_[0-9a-f]+'")


def pgbench_script(
    statements: list[str], first_ids: dict[str, int], *, products: tuple[int, int, int] | None = None
) -> str:
    """The same statements in the same order, transaction boundaries included (Django's
    query log records BEGIN and COMMIT too).

    A row created by the request gets its id from a variable in the script (`\\gset`),
    so that each run creates new rows that reference each other as the request's did.
    `first_ids`: the first id each table handed out while the statements were captured.
    `products` (first, second, span): the two product ids of the captured order, each replaced
    by a random one of the `span` ids from it on, as the load generator picks them.
    """
    next_id = dict(first_ids)
    lines: list[str] = []
    replacements: dict[str, str] = {}
    if products:
        first, second, span = products
        lines += [
            f"\\set p1 random({first}, {first + span - 1})",
            f"\\set p2 random({second}, {second + span - 1})",
        ]
        replacements |= {str(first): ":p1", str(second): ":p2"}
    for sql in statements:
        sql = _PAYMENT_REFERENCE.sub("'pay_' || md5(random()::text)", sql)  # a unique column
        for literal, variable in replacements.items():
            sql = re.sub(rf"(?<![\d.]){literal}(?![\d.])", variable, sql)
        insert = _INSERT.match(sql)
        table = insert["table"] if insert else ""
        rows = 2 if ("UNNEST(" in sql or "), (" in sql) else 1  # bulk inserts: two order items here
        if table in next_id and rows == 1 and " RETURNING " in sql:
            variable = f"{table}_{next_id[table]}_"
            replacements[str(next_id[table])] = f":{variable}id"
            lines += [sql, f"\\gset {variable}"]
        else:
            lines.append(sql + ";")
        if table in next_id:
            next_id[table] += rows
    return "\n".join(lines) + "\n"
