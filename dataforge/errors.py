"""Errors a user sees: one line of what went wrong, one line of what to do."""

from __future__ import annotations


class DataforgeError(Exception):
    """An error the CLI prints as `error: message` plus `hint: hint`, exit code 1."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InputError(DataforgeError):
    """The data given cannot be read or does not have the shape asked for."""


class ConfigError(DataforgeError):
    """Options, a config file or a recipe are wrong before any work starts."""


class MissingDependency(DataforgeError):
    """An optional package is needed; the hint names the pip install that fixes it."""

    def __init__(self, package: str, extra_hint: str | None = None, feature: str = ""):
        what = f" for {feature}" if feature else ""
        super().__init__(
            f"the Python package '{package}' is needed{what} but is not installed",
            extra_hint or f"pip install {package}",
        )


def require(module: str, pip_name: str | None = None, feature: str = ""):
    """Import an optional module or raise MissingDependency naming the install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        raise MissingDependency(pip_name or module.split(".")[0], feature=feature) from exc
