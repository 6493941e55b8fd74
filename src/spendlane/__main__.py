from spendlane.cli.quick import run

run()
