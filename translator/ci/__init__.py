"""CI pipelines (GitHub Actions, GitLab CI) from the step tree: jobs call the generated script."""
