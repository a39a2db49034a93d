"""Exit 0 when a PostgreSQL server answers at the URL given, else 1 (used by `make test`)."""

import sys

import psycopg


def main(url: str) -> int:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(plain, connect_timeout=3).close()
    except psycopg.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
