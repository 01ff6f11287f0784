from .cli import main

main(prog_name="codeship2compose")
