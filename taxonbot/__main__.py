from taxonbot.cli.main import main

raise SystemExit(main())
