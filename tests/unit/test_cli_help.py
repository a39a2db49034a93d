"""An operator reads `portal --help` before configuring anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner
from flask.cli import ScriptInfo

from portal.cli import cli

WITHOUT_SETTINGS = {name: None for name in os.environ if name.startswith("PORTAL_")}


def _commands(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, (*path, name))


def test_every_command_explains_itself_without_any_setting(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env=WITHOUT_SETTINGS)
    listing = runner.invoke(cli, ["--help"])
    assert listing.exit_code == 0 and "Traceback" not in listing.output
    with runner.isolation(env=WITHOUT_SETTINGS), click.Context(
            cli, info_name="portal", obj=ScriptInfo(create_app=cli.create_app)) as ctx:
        names = list(_commands(cli, ctx))
    assert {("worker",), ("db", "upgrade"), ("retention",), ("audit", "verify")} <= set(names)
    for name in names:
        shown = runner.invoke(cli, [*name, "--help"])
        assert shown.exit_code == 0, (name, shown.output)
        assert "Usage: " in shown.output and "Traceback" not in shown.output, name


def test_a_command_that_needs_the_secret_key_says_so_in_one_line(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    done = subprocess.run([str(Path(sys.executable).with_name("portal")), "worker", "--once"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        'portal: PORTAL_SECRET_KEY is required outside debug mode; generate one with: '
        'python -c "import secrets; print(secrets.token_hex(32))"']
