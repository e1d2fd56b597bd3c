from noc_tui.cli import main

raise SystemExit(main())
