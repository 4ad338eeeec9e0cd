"""CallbackData number fields take only the bot's own spelling (bot/keyboards/numbers.py).

The experiment behind them: with plain `int` fields, pydantic's lax mode unpacked "-0" → 0, "-5" → -5,
"99999999999999999999" → a number SQLite cannot bind, " 5", "+5", "5_000" and "5.0" → 5, while it refused
"１２", "٣", "²" and "1e3". Now all of those fail to unpack, so the press matches no handler and gets the
stale-button answer (bot/handlers/fallback.py).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.domain.numbers import ID_MAX
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.checkin_callbacks import AwayCallback

REFUSED = ("１２", "٣", "²", "-0", "-5", "1e3", "99999999999999999999", " 5", "5 ", "+5", "5_000", "5.0", "0x10",
           "true", str(ID_MAX + 1))


@pytest.mark.parametrize("value", REFUSED)
def test_respelt_numbers_do_not_unpack(value: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        PartnerCallback.unpack(f"pt1:o:{value}:0:0")
    with pytest.raises((ValueError, TypeError)):
        AwayCallback.unpack(f"aw1:{value}")


@pytest.mark.parametrize(("data", "partner_id", "page"), [("pt1:o:5:0:0", 5, 0), ("pt1:l:0:2:1", 0, 2),
                                                          (f"pt1:o:{ID_MAX}:0:0", ID_MAX, 0)])
def test_the_bots_own_data_round_trips(data: str, partner_id: int, page: int) -> None:
    unpacked = PartnerCallback.unpack(data)
    assert (unpacked.partner_id, unpacked.page) == (partner_id, page)
    assert unpacked.pack() == data


def test_out_of_range_values_cannot_be_packed_either() -> None:
    with pytest.raises(ValidationError):
        PartnerCallback(action=PartnerAction.OPEN, partner_id=-1)
    with pytest.raises(ValidationError):
        PartnerCallback(action=PartnerAction.LIST, page=10**6)
    with pytest.raises(ValidationError):
        AwayCallback(weeks=True)
    with pytest.raises(ValueError):
        AwayCallback.unpack("aw1:")  # a required field left empty
    assert PartnerCallback.unpack("pt1:o::0:0").partner_id == 0  # aiogram: an empty optional field is its default
    assert AwayCallback.unpack("aw1:100").weeks == 100  # the handler checks the exact range (0–12)
