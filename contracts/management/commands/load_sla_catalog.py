from django.core.management.base import BaseCommand, CommandError

from contracts.catalog import DEFAULT_CATALOG, CatalogError, catalog_load


class Command(BaseCommand):
    help = "Load the built-in SLA catalog (or --file) as policies; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_CATALOG), help="catalog JSON file")

    def handle(self, *args, **options):
        try:
            result = catalog_load(options["file"])
        except CatalogError as exc:
            raise CommandError(f"Catalog not loaded, nothing saved: {exc}") from None
        if options["verbosity"] > 1:
            for label in result.created:
                self.stdout.write(f"created   {label}")
            for label in result.updated:
                self.stdout.write(f"updated   {label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"SLA catalog: {len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.unchanged)} unchanged."
            )
        )
