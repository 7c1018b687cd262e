from protolearn.cli import main

raise SystemExit(main())
