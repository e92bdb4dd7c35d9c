"""Property tests: any JSON-like value survives the trip through DynamoDB's types unchanged."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from servicekit.dynamo import deserialize, serialize

# DynamoDB numbers hold 38 significant digits. Empty strings are fine as non-key
# attributes; sets are not used.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**37), max_value=10**37)
    # Beyond 2**53 a double's shortest repr is not the integer it holds; such values
    # come back equal to the JSON text, not to the double (JSON has the same limit).
    | st.floats(min_value=-(2.0**53), max_value=2.0**53).filter(lambda f: f == 0 or abs(f) >= 1e-130)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def test_a_float_too_small_for_dynamodb_is_stored_as_zero() -> None:
    assert deserialize(serialize({"latitude": 1e-200})) == {"latitude": 0}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=6))
def test_serialize_then_deserialize_gives_the_same_values(item: dict[str, Any]) -> None:
    assert deserialize(serialize(item)) == item
