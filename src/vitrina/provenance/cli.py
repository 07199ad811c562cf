"""``vitrina provenance ...``: the brand owner's key material for provisioning tags (registered by ``vitrina.cli``)."""

from __future__ import annotations

from typing import Annotated

import typer

provenance_app = typer.Typer(help="Provenance: tag keys for provisioning.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(provenance_app, name="provenance")


@provenance_app.command("master-key")
def master_key(
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    set_hex: Annotated[str | None, typer.Option("--set", help="Import this master key (32 hex digits).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show (creating it on first use) or import the organization's AN10922 master key, from which each tag's
    SDM file-read key is diversified over its UID. Keep it as secret as the tags' own keys."""
    from vitrina.cli import console, database, emit_json, fail
    from vitrina.provenance import crypto, service

    with database().unit_of_work(organization_id=organization_id) as session:
        if set_hex is not None:
            try:
                key = bytes.fromhex(set_hex)
            except ValueError:
                raise fail("--set must be 32 hex digits") from None
            if len(key) != crypto.KEY_BYTES:
                raise fail("--set must be 32 hex digits")
            service.set_master_key(session, organization_id=organization_id, key=key)
        master = service.master_key(session, organization_id=organization_id)
    assert master is not None
    meta = crypto.meta_read_key(master)
    if as_json:
        emit_json({"organization_id": organization_id, "master_key": master.hex().upper(),
                   "meta_read_key": meta.hex().upper()})
        return
    console.print(f"master key      {master.hex().upper()}")
    console.print(f"meta-read key   {meta.hex().upper()}  (K_SDMMetaRead, the same for every tag)")
    console.print("file-read key   AN10922(master, UID || 'SDMFileRead')  (K_SDMFileRead, per tag)")
