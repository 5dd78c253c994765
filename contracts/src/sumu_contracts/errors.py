"""The one exception a contract check raises."""

from __future__ import annotations


class ContractError(ValueError):
    """A payload breaks a contract.

    ``pointer`` is the RFC 6901 JSON pointer of the offending value ("" for the whole payload),
    ``reason`` a sentence a person can act on.
    """

    def __init__(self, contract: str, pointer: str, reason: str) -> None:
        self.contract = contract
        self.pointer = pointer
        self.reason = reason
        where = pointer or "(root)"
        super().__init__(f"{contract}: {where}: {reason}")

    def as_dict(self) -> dict[str, str]:
        return {"contract": self.contract, "pointer": self.pointer, "reason": self.reason}
