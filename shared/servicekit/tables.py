"""Creating a service's table from the definition in its CloudFormation merge template.

Each table is defined once, in its service's ``resources.json``; the local stack, the
tests and the bootstrap of a fresh AWS account all create it from there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLE_TYPE = "AWS::DynamoDB::Table"
_COPIED = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")


def definition(resources_json: Path) -> dict[str, Any]:
    """The properties of the one DynamoDB table in a merge template."""
    resources = json.loads(Path(resources_json).read_text())["Resources"]
    tables = [r["Properties"] for r in resources.values() if r["Type"] == TABLE_TYPE]
    if len(tables) != 1:
        raise ValueError(f"{resources_json} must define exactly one DynamoDB table, found {len(tables)}")
    return tables[0]  # type: ignore[no-any-return]


def create(client: Any, name: str, resources_json: Path) -> bool:
    """Create table ``name`` as defined, with its TTL; False if it already existed."""
    properties = definition(resources_json)
    params = {key: properties[key] for key in _COPIED if key in properties}
    try:
        client.create_table(TableName=name, **params)
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    return True
