from app.cli import main

# Guarded: the api's parse worker is a spawned interpreter that imports the
# main module again, and must not run the command line a second time.
if __name__ == "__main__":
    raise SystemExit(main())
