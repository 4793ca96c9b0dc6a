from bench.soak.runner import main

main()
