from dataforge.cli.main import main

main()
