from passkeys.cli import main

raise SystemExit(main())
