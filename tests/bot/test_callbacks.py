import pytest

from bot.callbacks import AskCancelOrder, InvalidCallbackData, decode


def test_decode_accepts_largest_database_id() -> None:
    assert decode(f"oc?:{2**31 - 1}:1") == AskCancelOrder(2**31 - 1, 1)


@pytest.mark.parametrize("order_id", [2**31, 2**63])
def test_decode_rejects_id_beyond_integer_column(order_id: int) -> None:
    with pytest.raises(InvalidCallbackData):
        decode(f"oc?:{order_id}:1")
