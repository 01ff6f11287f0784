"""codeship2compose: Codeship Pro services + steps -> Docker Compose + a step runner script."""

__version__ = "0.1.0"
