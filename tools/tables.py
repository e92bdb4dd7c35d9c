"""Creating a service's table from the definition in its CloudFormation merge template.

Each table is defined once, in its service's ``resources.json``; the local stack, the
tests and the bootstrap of a fresh AWS account all create it from there.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

TABLE_TYPE = "AWS::DynamoDB::Table"
_COPIED = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")


def definition(resources_json: Path) -> dict[str, Any]:
    """The properties of the one DynamoDB table in a merge template.

    Entries without a ``Type`` are overrides the merge deep-merges into Chalice's own
    resources (the functions' environment, for instance).
    """
    resources = json.loads(Path(resources_json).read_text())["Resources"]
    tables = [r["Properties"] for r in resources.values() if r.get("Type") == TABLE_TYPE]
    if len(tables) != 1:
        raise ValueError(f"{resources_json} must define exactly one DynamoDB table, found {len(tables)}")
    return tables[0]  # type: ignore[no-any-return]


def create(client: Any, name: str, resources_json: Path, *, deployed: bool = False) -> bool:
    """Create table ``name`` as defined, with its TTL (also on one that existed); False if it already existed.

    ``deployed`` adds what the template gives a table in AWS beyond its shape, where the
    definition asks for it: server-side encryption under the AWS managed key, and
    point-in-time recovery (also switched on for a table that exists already). The
    local stack leaves both out: its DynamoDB need not support them.
    """
    properties = definition(resources_json)
    params = {key: properties[key] for key in _COPIED if key in properties}
    if "StreamSpecification" in properties:  # CloudFormation's shape, in the API's words
        params["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    if deployed and properties.get("SSESpecification", {}).get("SSEEnabled"):
        params["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
    try:
        client.create_table(TableName=name, **params)
        created = True
    except client.exceptions.ResourceInUseException:
        created = False
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        _enable_time_to_live(client, name, ttl["AttributeName"])
    if deployed and properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        _enable_point_in_time_recovery(client, name)
    return created


def _enable_time_to_live(client: Any, name: str, attribute: str) -> None:
    """Expire items by ``attribute``, unless the table does already (also on a table that existed).

    A create whose answer was lost (a timeout, then botocore's retry finds the table) has
    made the table but not its TTL; DynamoDB refuses to enable a TTL twice.
    """
    described = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if described.get("AttributeName") != attribute:
            raise RuntimeError(f"table {name} expires items by {described.get('AttributeName')}, not {attribute}")
        return
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True})


def _enable_point_in_time_recovery(client: Any, name: str, attempts: int = 30) -> None:
    for _ in range(attempts):
        try:
            client.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
            return
        except client.exceptions.ContinuousBackupsUnavailableException:
            # A new table's backups take a moment to become available.
            time.sleep(2)
    raise RuntimeError(f"point-in-time recovery could not be switched on for table {name}")
