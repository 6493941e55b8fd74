from spendlane.cli import main

main()
