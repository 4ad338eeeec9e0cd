"""What a conversation has collected so far: a typed pydantic model kept under its KEY, as plain JSON — in a
dialog's dialog_data (`in_dialog`, `keep_in_dialog`), or in FSM data where an earlier version left it (`load`).

Both survive restarts (SQLite storage), so what is read back is input: written by an older version of the bot, or
damaged. A draft's field types and validators say what it accepts, and `load` holds it to them:

- Strict types, no lax coercion: a bool is not an int, "5" is not 5, 5.0 is not 5, 1 is not True (pydantic's lax
  mode would take all of these; see bot/keyboards/numbers.py for the same concern with callback data).
- A stored field that fails its type or validator falls back to the field's default, and the rest of the draft is
  kept, as the hand validators did before: one bad value does not lose the conversation, and the handler's own
  checks (no partner id → the stale answer, `to_scope` → None) catch a draft that lacks what it needs.
- In a list or dict, an entry whose type is marked `Entry` is dropped alone (a reason or a checklist item a later
  version no longer knows), the other entries stay.
- Keys the model does not know are ignored; a missing key takes its default.

In code the same model is strict the other way: constructing a draft or assigning a field with a wrong value
raises, because that is a bug, not input. `save` writes `model_dump(mode="json")`: the same keys and values the
dataclass drafts wrote with `asdict`, so drafts saved before this change still load (tests/unit/test_drafts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, ClassVar, Self

from aiogram.fsm.context import FSMContext
from aiogram_dialog import DialogManager
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticOmit


class DraftModel(BaseModel):
    model_config = ConfigDict(strict=True, validate_assignment=True, extra="ignore")

    KEY: ClassVar[str]

    @classmethod
    async def load(cls, state: FSMContext) -> Self:
        return cls.from_stored((await state.get_data()).get(cls.KEY))

    @classmethod
    def in_dialog(cls, manager: DialogManager) -> Self:
        """The draft of a flow run as a dialog (aiogram-dialog), kept in its dialog_data under KEY."""
        return cls.from_stored(manager.dialog_data.get(cls.KEY))

    def keep_in_dialog(self, manager: DialogManager) -> None:
        manager.dialog_data[self.KEY] = self.model_dump(mode="json")

    def as_start_data(self, **more: Any) -> dict[str, Any]:
        """A dialog's start data: the draft under KEY, and whatever else its on_start (dialog_steps.begin) puts in
        dialog_data (a note shown once)."""
        return {self.KEY: self.model_dump(mode="json"), **more}

    @classmethod
    def from_stored(cls, raw: object) -> Self:
        """The draft stored as `raw`: a field that does not validate takes its default; not a dict: an empty draft."""
        if not isinstance(raw, dict):
            return cls()
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            invalid = {problem["loc"][0] for problem in error.errors() if problem["loc"]}
        try:
            return cls.model_validate({name: value for name, value in raw.items() if name not in invalid})
        except ValidationError:  # a model-level check failed without naming a field
            return cls()

    async def save(self, state: FSMContext) -> None:
        await state.update_data({self.KEY: self.model_dump(mode="json")})


def one_of(values: Iterable[Enum], *also: str) -> AfterValidator:
    """A str field holding one of these enum members' values (or one of `also`, such as "" for not answered yet)."""
    allowed = frozenset({member.value for member in values} | set(also))

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError("not one of the allowed values")
        return value

    return AfterValidator(check)


def holds(predicate: Callable[[Any], bool]) -> AfterValidator:
    """A field whose value passes the domain's own check (is_valid_rating, is_valid_quality)."""

    def check(value: Any) -> Any:
        if not predicate(value):
            raise ValueError("out of range")
        return value

    return AfterValidator(check)


def _drop_when_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticOmit from None


# Metadata for a list item's or a dict key's or value's type: an invalid entry is left out, the others stay.
Entry = WrapValidator(_drop_when_invalid)
