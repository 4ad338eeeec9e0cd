"""What a conversation has collected so far: a dataclass kept in FSM data under its KEY, as plain JSON.

FSM data survives restarts (SQLite storage), so a loader treats it as input: a subclass checks what it reads in
`from_stored`; `load` and `save` are the same for every conversation.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar, Self

from aiogram.fsm.context import FSMContext


class FsmDraft:
    KEY: ClassVar[str]

    @classmethod
    async def load(cls, state: FSMContext) -> Self:
        raw = (await state.get_data()).get(cls.KEY)
        return cls.from_stored(raw) if isinstance(raw, dict) else cls()

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> Self:
        """By default the stored values of the dataclass's own fields, as `save` wrote them."""
        known = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{name: value for name, value in raw.items() if name in known})

    async def save(self, state: FSMContext) -> None:
        await state.update_data({self.KEY: asdict(self)})  # type: ignore[call-overload]


def stored(raw: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """raw[name] when it is a `kind` (a bool never passes as an int), else `default`."""
    value = raw.get(name)
    return value if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool) else default
