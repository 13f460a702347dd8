"""``gc.flags`` (also ``gc.app.flags``): TF1's command-line flags, parsed with argparse.

The absl-style API TF1 scripts use: ``DEFINE_string/integer/float/boolean/enum/list`` and
the ``FLAGS`` object. As in TF1, reading a flag before anything parsed the command line parses
``sys.argv`` then; ``gc.app.run`` parses it before calling ``main``. Booleans take
``--flag``, ``--noflag`` and ``--flag=false``; ``-flag`` works like ``--flag``.

Example:
    >>> import graphc as tf
    >>> tf.flags.DEFINE_integer("batch_size", 32, "examples per step")
    >>> tf.flags.DEFINE_boolean("fake_data", False, "use fake data")
    >>> FLAGS = tf.flags.FLAGS
    >>> FLAGS(["train.py", "--batch_size=64", "--fake_data"])
    ['train.py']
    >>> FLAGS.batch_size, FLAGS.fake_data
    (64, True)
"""
from __future__ import annotations

import argparse
import os
import sys

__all__ = ["FLAGS", "FlagValues", "Flag", "Error", "UnrecognizedFlagError",
           "IllegalFlagValueError", "DuplicateFlagError", "DEFINE_string", "DEFINE_integer",
           "DEFINE_float", "DEFINE_boolean", "DEFINE_bool", "DEFINE_enum", "DEFINE_list",
           "DEFINE_multi_string", "DEFINE_multi_integer", "mark_flag_as_required",
           "mark_flags_as_required"]


class Error(Exception):
    """Base class of the flag errors (absl's ``flags.Error``)."""


class UnrecognizedFlagError(Error):
    """The command line named a flag that no ``DEFINE_*`` call defined."""


class IllegalFlagValueError(Error):
    """A flag's value could not be parsed or is out of its bounds or choices."""


class DuplicateFlagError(Error):
    """A flag name was defined twice."""


def _parse_bool(text):
    if isinstance(text, bool):
        return text
    lowered = str(text).lower()
    if lowered in ("true", "t", "1", "yes", "y"):
        return True
    if lowered in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError(f"{text!r} is not a boolean (use true or false)")


def _parse_list(text):
    if isinstance(text, (list, tuple)):
        return list(text)
    return [item.strip() for item in str(text).split(",") if item.strip()]


class Flag:
    """One defined flag: its parser, default, help text and current ``value``."""

    def __init__(self, kind: str, name: str, default, help_text: str, parse, short_name=None,
                 check=None, multi: bool = False):
        self.kind, self.name, self.help, self.short_name = kind, name, help_text, short_name
        self._parse_one, self._check, self.multi = parse, check, multi
        self.present = self.required = False
        self.default = self.value = self._convert(default) if default is not None else None

    @property
    def boolean(self) -> bool:
        return self.kind == "bool"

    def _convert(self, value):
        if self.multi:
            values = value if isinstance(value, (list, tuple)) else [value]
            return [self._convert_one(v) for v in values]
        return self._convert_one(value)

    def _convert_one(self, value):
        try:
            parsed = self._parse_one(value) if isinstance(value, str) or self.boolean \
                else value
        except ValueError as err:
            raise IllegalFlagValueError(f"flag --{self.name}={value}: {err}") from None
        if self._check is not None:
            problem = self._check(parsed)
            if problem:
                raise IllegalFlagValueError(f"flag --{self.name}={value}: {problem}")
        return parsed

    def __repr__(self) -> str:
        return f"<Flag --{self.name}={self.value!r} ({self.kind})>"


class FlagValues:
    """The registry of defined flags; attribute access gives a flag's value.

    Calling it with an argv parses that command line and returns the arguments that are no
    flags (argv[0] first). Reading a flag before any parse parses ``sys.argv``.
    """

    def __init__(self):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)

    # -- definition -----------------------------------------------------------------------
    def _define(self, flag: Flag) -> None:
        if flag.name in self._flags:
            raise DuplicateFlagError(f"The flag {flag.name!r} is defined twice.")
        self._flags[flag.name] = flag

    # -- parsing --------------------------------------------------------------------------
    def __call__(self, argv, known_only: bool = False) -> list:
        """Parse ``argv`` (``argv[0]`` is the program); returns the non-flag arguments.

        Raises:
            UnrecognizedFlagError: an unknown ``--flag`` (unless ``known_only``, which
                passes unknown flags through in the returned list).
            IllegalFlagValueError: a value that does not parse or check.
        """
        argv = list(argv)
        program, args = (argv[0], argv[1:]) if argv else ("", [])
        after_dashes = []
        if "--" in args:
            cut = args.index("--")
            args, after_dashes = args[:cut], args[cut + 1:]
        parser = self._parser(program)
        try:
            namespace, extras = parser.parse_known_args(self._spell_booleans(args))
        except argparse.ArgumentError as err:
            raise IllegalFlagValueError(str(err)) from None
        unknown = [a for a in extras if a.startswith("-") and a != "-" and not _number(a)]
        if unknown and not known_only:
            raise UnrecognizedFlagError(
                f"Unknown command line flag {unknown[0].lstrip('-').split('=')[0]!r} in "
                f"{unknown[0]!r}; defined flags: {', '.join(sorted(self._flags)) or 'none'}")
        for name, value in vars(namespace).items():
            flag = self._flags[name]
            flag.value, flag.present = flag._convert(value), True
        missing = [f.name for f in self._flags.values() if f.required and f.value is None]
        if missing:
            raise IllegalFlagValueError(f"flag --{missing[0]} must have a value other than "
                                        "None (it is marked as required)")
        object.__setattr__(self, "_parsed", True)
        return [program] * bool(argv) + extras + after_dashes

    def _spell_booleans(self, args: list) -> list:
        """``--flag=false`` as ``--noflag``: argparse's flag actions take no value."""
        spelled = []
        for arg in args:
            name, equals, value = arg.lstrip("-").partition("=")
            flag = self._flags.get(name)
            if arg.startswith("-") and equals and flag is not None and flag.boolean:
                try:
                    arg = f"--{'' if _parse_bool(value) else 'no'}{name}"
                except ValueError as err:
                    raise IllegalFlagValueError(f"flag --{name}: {err}") from None
            spelled.append(arg)
        return spelled

    def _parser(self, program: str) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog=os.path.basename(program) or None,
                                         allow_abbrev=False, exit_on_error=False)
        for flag in self._flags.values():
            names = [f"--{flag.name}"] + ([f"-{flag.name}"] if len(flag.name) > 1 else [])
            names += [f"-{flag.short_name}"] if flag.short_name else []
            shown = f"{flag.help} (default: {flag.default!r})"
            if flag.boolean:
                parser.add_argument(*names, dest=flag.name, action="store_const", const=True,
                                    default=argparse.SUPPRESS, help=shown)
                parser.add_argument(f"--no{flag.name}", dest=flag.name, action="store_const",
                                    const=False, default=argparse.SUPPRESS,
                                    help=argparse.SUPPRESS)
            else:
                parser.add_argument(*names, dest=flag.name, type=str, help=shown,
                                    action="append" if flag.multi else "store",
                                    default=argparse.SUPPRESS, metavar=flag.kind.upper())
        return parser

    def _parse_flags(self, args=None) -> list:
        """TF1.4's spelling of a parse of ``sys.argv``."""
        return self(sys.argv if args is None else [sys.argv[0]] + list(args), known_only=True)

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self) -> None:
        """Back to the defaults, as if nothing had been parsed."""
        for flag in self._flags.values():
            flag.value, flag.present = flag.default, False
        object.__setattr__(self, "_parsed", False)

    # -- access ---------------------------------------------------------------------------
    def __getattr__(self, name):
        if name == "__flags":  # TF1.4 scripts read FLAGS.__flags (not mangled outside a class)
            return self.flag_values_dict()
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(f"no flag --{name} is defined (defined: "
                                 f"{', '.join(sorted(flags)) or 'none'})")
        if not self._parsed:
            self(sys.argv)
        return flags[name].value

    def __setattr__(self, name, value):
        flag = self._flags.get(name)
        if flag is None:
            raise UnrecognizedFlagError(f"cannot set undefined flag --{name}")
        flag.value = flag._convert(value) if value is not None else None

    def __getitem__(self, name) -> Flag:
        return self._flags[name]

    def __contains__(self, name) -> bool:
        return name in self._flags

    def __iter__(self):
        return iter(list(self._flags))

    def __len__(self) -> int:
        return len(self._flags)

    def flag_values_dict(self) -> dict:
        return {name: flag.value for name, flag in self._flags.items()}

    def get_flag_value(self, name, default):
        flag = self._flags.get(name)
        return default if flag is None else flag.value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


FLAGS = FlagValues()


def _bounds(lower, upper):
    def check(value):
        if lower is not None and value < lower:
            return f"must be >= {lower}"
        if upper is not None and value > upper:
            return f"must be <= {upper}"
        return None
    return check if lower is not None or upper is not None else None


def _define(kind, name, default, help, parse, flag_values, short_name=None, check=None,
            multi=False, required=False, **_):
    flag = Flag(kind, name, default, help, parse, short_name, check, multi)
    flag.required = bool(required)
    (FLAGS if flag_values is None else flag_values)._define(flag)
    return flag


def DEFINE_string(name, default, help, flag_values=None, **args):  # noqa: A002,N802
    """A string flag: ``--name=value``."""
    return _define("string", name, default, help, str, flag_values, **args)


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None,  # noqa: A002,N802
                   flag_values=None, **args):
    """An integer flag, optionally bounded: ``--name=5``."""
    return _define("int", name, default, help, int, flag_values,
                   check=_bounds(lower_bound, upper_bound), **args)


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None,  # noqa: A002,N802
                 flag_values=None, **args):
    """A float flag, optionally bounded: ``--name=0.01``."""
    return _define("float", name, default, help, float, flag_values,
                   check=_bounds(lower_bound, upper_bound), **args)


def DEFINE_boolean(name, default, help, flag_values=None, **args):  # noqa: A002,N802
    """A boolean flag: ``--name``, ``--noname``, ``--name=true|false``."""
    return _define("bool", name, default, help, _parse_bool, flag_values, **args)


DEFINE_bool = DEFINE_boolean


def DEFINE_enum(name, default, enum_values, help, flag_values=None, **args):  # noqa: A002,N802
    """A string flag restricted to ``enum_values``."""
    choices = list(enum_values)

    def check(value):
        return None if value in choices else f"value should be one of <{'|'.join(choices)}>"
    return _define("enum", name, default, help, str, flag_values, check=check, **args)


def DEFINE_list(name, default, help, flag_values=None, **args):  # noqa: A002,N802
    """A comma-separated list of strings: ``--name=a,b,c``."""
    return _define("list", name, default, help, _parse_list, flag_values, **args)


def DEFINE_multi_string(name, default, help, flag_values=None, **args):  # noqa: A002,N802
    """A string flag that may repeat; its value is the list of all occurrences."""
    return _define("string", name, default, help, str, flag_values, multi=True, **args)


def DEFINE_multi_integer(name, default, help, flag_values=None, **args):  # noqa: A002,N802
    """An integer flag that may repeat; its value is the list of all occurrences."""
    return _define("int", name, default, help, int, flag_values, multi=True, **args)


def mark_flag_as_required(flag_name, flag_values=None) -> None:
    """Parsing fails unless the flag ends up with a value other than None."""
    (FLAGS if flag_values is None else flag_values)[flag_name].required = True


def mark_flags_as_required(flag_names, flag_values=None) -> None:
    for name in flag_names:
        mark_flag_as_required(name, flag_values)
