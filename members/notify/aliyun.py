"""Alibaba Cloud SMS (阿里云短信服务): ``SendSms`` through Alibaba's own SDK (``alibabacloud-dysmsapi20170525``).

OPTIONS::

    "sms": {
        "BACKEND": "members.notify.aliyun.AliyunSmsBackend",
        "OPTIONS": {
            "ACCESS_KEY_ID": "...", "ACCESS_KEY_SECRET": "...",   # a RAM user with dysms:SendSms
            "SIGN_NAME": "书苑",                                  # an approved signature (短信签名)
            "TEMPLATE_CODE": "SMS_123456789",                      # an approved notification template
            # optional: "TEMPLATE_PARAMS" ({"title": "title", "content": "body"}: template variable →
            # reminder field), "SECURITY_TOKEN", "ENDPOINT" ("dysmsapi.aliyuncs.com"), "PROTOCOL"
            # ("https"), "TIMEOUT" (10 s)
        },
    }

One reminder is the same text for every member, so it goes by ``SendSms``, whose ``PhoneNumbers``
carries up to 1,000 comma-separated mainland numbers a call (API reference:
https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms); ``SendBatchSms``
(100 numbers, one signature and parameter set each) is for messages that differ per number. The call
is accepted or refused as a whole: the API answers ``Code`` "OK" with a ``BizId`` (the receipt for
``QuerySendDetails``), or an error code (``isv.BUSINESS_LIMIT_CONTROL``, ``isv.MOBILE_NUMBER_ILLEGAL``...).
The SDK signs each request with ACS3-HMAC-SHA256; ``ENDPOINT`` and ``PROTOCOL`` point it elsewhere
(tests use a local server that checks the signature).
"""

from __future__ import annotations

import json

from .base import Message, NotifyBackend, Result, protocol_option, require, timeout_option

DEFAULT_PARAMS = {"title": "title", "content": "body"}


def missing_sdk(package: str) -> ValueError:
    return ValueError(f"this backend needs the {package} package (pip install {package})")


class AliyunSmsBackend(NotifyBackend):
    channel = "sms"
    vendor = "阿里云短信"
    max_per_call = 1000

    def __init__(self, options):
        super().__init__(options)
        require(options, "ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SIGN_NAME", "TEMPLATE_CODE")
        self.sign_name = options["SIGN_NAME"]
        self.template_code = options["TEMPLATE_CODE"]
        self.template_params = options.get("TEMPLATE_PARAMS", DEFAULT_PARAMS)
        if not isinstance(self.template_params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.template_params.items()
        ):
            raise ValueError("TEMPLATE_PARAMS must map template variables to reminder fields, e.g. {'title': 'title'}")
        timeout = timeout_option(options)
        try:
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi.utils_models import Config
        except ImportError as e:
            raise missing_sdk("alibabacloud-dysmsapi20170525") from e
        config = Config(
            access_key_id=options["ACCESS_KEY_ID"],
            access_key_secret=options["ACCESS_KEY_SECRET"],
            security_token=options.get("SECURITY_TOKEN") or None,
            endpoint=options.get("ENDPOINT", "dysmsapi.aliyuncs.com"),
            protocol=protocol_option(options),
            connect_timeout=int(timeout * 1000),
            read_timeout=int(timeout * 1000),
        )
        self.client = Client(config)

    def params_for(self, message: Message) -> dict[str, str]:
        fields = message.fields()
        return {var: fields.get(name, "") for var, name in self.template_params.items()}

    def send(self, message: Message, addresses: list[str]) -> list[Result]:
        from alibabacloud_dysmsapi20170525 import models
        from darabonba.exceptions import DaraException, UnretryableException
        from darabonba.runtime import RuntimeOptions

        if len(addresses) > self.max_per_call:
            raise ValueError(f"at most {self.max_per_call} numbers a call")
        request = models.SendSmsRequest(
            phone_numbers=",".join(addresses),
            sign_name=self.sign_name,
            template_code=self.template_code,
            template_param=json.dumps(self.params_for(message), ensure_ascii=False),
        )
        try:
            response = self.client.send_sms_with_options(request, RuntimeOptions(autoretry=False))
        except DaraException as e:  # the API answered with an error (signature, throttling...)
            return self.failed_all(addresses, str(getattr(e, "code", None) or type(e).__name__), str(getattr(e, "message", e)))
        except UnretryableException as e:  # could not reach the API
            return self.failed_all(addresses, "NetworkError", str(e))
        body = response.body
        if body.code != "OK":
            return self.failed_all(addresses, body.code or "Unknown", body.message or "")
        return [Result(a, True, "OK", body.message or "", body.biz_id or "") for a in addresses]
