from revstat.cli import main

main()
