"""What every reporter renders: the findings of one run and what was checked."""

from __future__ import annotations

from dataclasses import dataclass

from taxonbot.taxonomy.findings import Finding, Severity


@dataclass(frozen=True)
class CheckReport:
    files: tuple[str, ...]
    findings: tuple[Finding, ...]
    mode: str = "audit"  # "audit" (whole tree) or "changed" (files a pull request touches)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    @property
    def failed(self) -> bool:
        return self.errors > 0

    def summary(self) -> str:
        files = len(self.files)
        return (
            f"{files} file{'s' if files != 1 else ''} checked: "
            f"{self.errors} error{'s' if self.errors != 1 else ''}, "
            f"{self.warnings} warning{'s' if self.warnings != 1 else ''}."
        )
