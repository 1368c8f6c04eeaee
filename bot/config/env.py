"""The Wechaty gateway connection: the one setting read from the environment, not
from `pingan.toml` (`pingan run` takes the endpoint and token from there, SPEC)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from bot.config.model import ConfigError


@dataclass(frozen=True)
class WechatyConnection:
    endpoint: str
    token: str


ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"
ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"


def wechaty_connection(environ: Mapping[str, str]) -> WechatyConnection:
    """Read the puppet-service endpoint and token from the environment (the only place
    the bot reads it). Without an endpoint python-wechaty would go looking for one over
    the internet, so both are required."""
    missing = [name for name in (ENV_TOKEN, ENV_ENDPOINT) if not environ.get(name, "").strip()]
    if missing:
        raise ConfigError([f"缺少环境变量 {' 和 '.join(missing)}：请设置网关地址（host:port）和 token，见 README“连接微信”"])
    endpoint = environ[ENV_ENDPOINT].strip()
    if not re.fullmatch(r"[\w.\-]+:\d{1,5}", endpoint):
        raise ConfigError([f'{ENV_ENDPOINT} 应为 host:port，如 127.0.0.1:8788，实际是 "{endpoint}"'])
    return WechatyConnection(endpoint, environ[ENV_TOKEN].strip())
