import click


@click.group(invoke_without_command=True)
def main() -> None:
    """spendlane."""
