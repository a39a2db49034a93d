"""The wheel carries what the portal reads from the checkout's top level.

The repository keeps templates/, static/, themes/ and migrations/ beside the package, as
DESIGN.md lays out; an installed portal finds them inside it, in portal/_bundled/ (see
portal.ROOT). The catalogues are compiled here too, since the .mo files are not in git.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("templates", "static", "themes", "migrations")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout
            return
        target = Path(self.build_lib) / "portal" / "_bundled"
        for name in BUNDLED:
            shutil.copytree(HERE / name, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self._compile_catalogues(Path(self.build_lib) / "portal" / "translations")

    def _compile_catalogues(self, directory: Path) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            with po_path.with_suffix(".mo").open("wb") as mo_file:
                write_mo(mo_file, catalog)


setup(cmdclass={"build_py": BuildWithResources})
