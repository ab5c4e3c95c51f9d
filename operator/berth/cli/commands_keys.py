"""create-, list- and delete-access-key: keys of the Lightsail API endpoint, shaped as
`aws iam` prints them. A key acts in the namespace given with -n, through RBAC."""

import argparse

from berth.cli.arguments import Subcommands, command
from berth.cli.client import BerthClient, api_message
from berth.cli.errors import CliError
from berth.cli.output import Output
from berth.cli.rest import ApiError


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    create = command(
        commands,
        common,
        "create-access-key",
        "A key for the Lightsail API endpoint, acting in the namespace (-n).",
        create_key,
    )
    create.add_argument(
        "--service-account",
        default=None,
        help="the ServiceAccount the key acts as (default berth-lightsail, made and bound "
        "to the tenant role if absent)",
    )
    _keys_namespace(create)
    listing = command(
        commands, common, "list-access-keys", "The namespace's access keys.", list_keys
    )
    _keys_namespace(listing)
    delete = command(commands, common, "delete-access-key", "Delete an access key.", delete_key)
    delete.add_argument("--access-key-id", required=True)
    _keys_namespace(delete)


def _keys_namespace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keys-namespace",
        default=None,
        help="where the endpoint keeps keys (default: BERTH_NAMESPACE, else berth-system)",
    )


def _where(args: argparse.Namespace) -> str:
    from berth import settings  # pydantic-settings costs every other command its start time

    return str(args.keys_namespace or settings.load().namespace)


def create_key(args: argparse.Namespace, client: BerthClient) -> Output:
    from berth.lightsail import keys  # the endpoint's code, only when a key command runs

    account = args.service_account or keys.DEFAULT_SERVICE_ACCOUNT
    try:
        key = keys.create(client.rest, _where(args), client.namespace, account)
    except ApiError as error:
        raise CliError(f"cannot create the key: {api_message(error)}", error.status) from error
    return Output({"AccessKey": keys.iam_shape(key, with_secret=True)})


def list_keys(args: argparse.Namespace, client: BerthClient) -> Output:
    from berth.lightsail import keys

    try:
        found = keys.listed(client.rest, _where(args), client.namespace)
    except ApiError as error:
        raise CliError(f"cannot list keys: {api_message(error)}", error.status) from error
    return Output({"AccessKeyMetadata": [keys.iam_shape(k, with_secret=False) for k in found]})


def delete_key(args: argparse.Namespace, client: BerthClient) -> Output:
    from berth.lightsail import keys

    try:
        deleted = keys.delete(client.rest, _where(args), args.access_key_id)
    except ApiError as error:
        raise CliError(f"cannot delete the key: {api_message(error)}", error.status) from error
    if not deleted:
        raise CliError(f"no access key {args.access_key_id}", 404)
    return Output(None, f"access key {args.access_key_id} deleted")
