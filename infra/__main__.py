"""The Pulumi program (Pulumi.yaml: ``main: infra/``): the stack's config + the project's app -> resources."""

from portside.infra.program import main

main()
