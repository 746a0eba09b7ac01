"""Configuration reload: accounts, tenants, routes and policy read from the file again and
swapped into the running parts, without dropping binds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import structlog

from policies.policy_file import Policy, load_default_policy, load_policy

from .accounts import AccountBook
from .camara.relations import Relations
from .config import Config, load_config
from .config_reader import ConfigError
from .tenants.directory import TenantDirectory
from .traffic.decider import PolicyHolder
from .traffic.esme_binds import EsmeBinds
from .traffic.pipeline import Pipeline
from .traffic.router import Router
from .traffic.simulated_upstreams import Hosts

log = structlog.get_logger("otpgate")


def policy_of(config: Config) -> Policy:
    """The policy ``config`` names, or the shipped default."""
    path = config.policy_file
    return load_policy(path) if path is not None else load_default_policy()


def reload_policy(config: Config, policies: PolicyHolder) -> Policy:
    """Swap in the policy file again; an invalid file raises PolicyError and the old one stays."""
    policy = policy_of(config)
    policies.policy = policy
    log.info("policy_reloaded", policy=policy.name, source=policy.source, rules=len(policy.rules))
    return policy


@dataclass(frozen=True, slots=True)
class Reload:
    """A configuration file read and validated, nothing applied yet."""

    read: Config  # as the file says
    config: Config  # what runs: the file's, on the running node and data directory
    policy: Policy
    restart_needed: list[str]


def read_reload(running: Config) -> Reload:
    """The running configuration's file read again; an invalid file raises ConfigError or
    PolicyError. Settings that need a restart (node, data directory, listeners) are named."""
    path = Path(running.source)
    if not path.is_file():
        raise ConfigError(f"{running.source}: not a file; nothing to reload")
    new = load_config(path)
    policy = load_policy(new.policy_file) if new.policy_file else load_default_policy()
    old = running
    restart_needed = [
        name
        for name, before, after in (
            ("node", (old.node_id, old.data_dir), (new.node_id, new.data_dir)),
            ("smpp.listen", (old.smpp.host, old.smpp.port), (new.smpp.host, new.smpp.port)),
            ("api", old.api, new.api),
            ("signals", old.signals, new.signals),
            ("holds", old.holds, new.holds),
            ("webhooks", old.webhooks, new.webhooks),
            ("camara_peers", old.camara_peers, new.camara_peers),
            ("camara.jwt", old.camara.jwt, new.camara.jwt),
        )
        if before != after
    ]
    config = replace(new, node_id=old.node_id, data_dir=old.data_dir)
    return Reload(new, config, policy, restart_needed)


async def apply_reload(
    reload: Reload,
    hosts_of: dict[str, Hosts],
    *,
    router: Router,
    binds: EsmeBinds,
    pipeline: Pipeline,
    tenants: TenantDirectory,
    relations: Relations,
    policies: PolicyHolder,
) -> dict[str, object]:
    """Routes, accounts, tenants and policy swapped in; binds of removed accounts closed.
    Returns the summary the operator API answers with."""
    new, policy = reload.read, reload.policy
    await router.reconfigure(new, hosts_of)
    removed = set(binds.accounts.accounts) - {a.system_id for a in new.smpp.accounts}
    binds.accounts = AccountBook(new.smpp.accounts)
    pipeline.accounts = binds.accounts.accounts
    unbound = sum(binds.drop_account(account) for account in removed)
    tenants.update(new.tenants, new.smpp.accounts)
    relations.add_tenants([t.name for t in new.tenants])
    policies.policy = policy
    summary = {
        "accounts": len(new.smpp.accounts),
        "removed_accounts": sorted(removed),
        "binds_closed": unbound,
        "routes": [r.name for r in new.smpp.routes],
        "tenants": [t.name for t in new.tenants],
        "policy": policy.name,
        "restart_needed": reload.restart_needed,
    }
    log.info("config_reloaded", **summary)
    return summary
