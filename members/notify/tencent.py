"""Tencent Cloud SMS (腾讯云短信): ``SendSms`` (2021-01-11) through Tencent's SDK (``tencentcloud-sdk-python-sms``).

OPTIONS::

    "sms": {
        "BACKEND": "members.notify.tencent.TencentSmsBackend",
        "OPTIONS": {
            "SECRET_ID": "...", "SECRET_KEY": "...",   # a CAM user allowed sms:SendSms
            "SDK_APP_ID": "1400000000",               # the SMS application (SmsSdkAppId)
            "SIGN_NAME": "书苑",                      # an approved signature
            "TEMPLATE_ID": "1234567",                 # an approved notification template
            # optional: "TEMPLATE_PARAMS" (["title", "body"]: the reminder fields for {1}, {2}...),
            # "REGION" ("ap-guangzhou"), "TOKEN" (STS), "ENDPOINT" ("sms.tencentcloudapi.com"),
            # "PROTOCOL" ("https"), "TIMEOUT" (10 s)
        },
    }

Limits, from the API reference (https://cloud.tencent.com/document/api/382/55981): at most 200
numbers a call, in E.164 form (+8613812345678). The answer says per number whether it was accepted
(``SendStatusSet``: ``Code`` "Ok" with a ``SerialNo``, or an error code such as
``LimitExceeded.PhoneNumberDailyLimit``), so one refused number fails alone; an error of the whole
call (signature, credentials) fails every number of the call. The SDK signs with TC3-HMAC-SHA256;
``ENDPOINT`` and ``PROTOCOL`` point it elsewhere (tests use a local server that checks the signature).
"""

from __future__ import annotations

from .aliyun import missing_sdk
from .base import Message, NotifyBackend, Result, protocol_option, require, timeout_option


def e164(number: str) -> str:
    return number if number.startswith("+") else f"+86{number}"


class TencentSmsBackend(NotifyBackend):
    channel = "sms"
    vendor = "腾讯云短信"
    max_per_call = 200

    def __init__(self, options):
        super().__init__(options)
        require(options, "SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME", "TEMPLATE_ID")
        self.app_id = str(options["SDK_APP_ID"])
        self.sign_name = options["SIGN_NAME"]
        self.template_id = str(options["TEMPLATE_ID"])
        self.template_params = options.get("TEMPLATE_PARAMS", ["title", "body"])
        if not isinstance(self.template_params, list | tuple) or not all(isinstance(p, str) for p in self.template_params):
            raise ValueError("TEMPLATE_PARAMS must be a list of reminder fields, e.g. ['title', 'body']")
        timeout = timeout_option(options)
        try:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111 import sms_client
        except ImportError as e:
            raise missing_sdk("tencentcloud-sdk-python-sms") from e
        http = HttpProfile(
            protocol=protocol_option(options),
            endpoint=options.get("ENDPOINT", "sms.tencentcloudapi.com"),
            reqTimeout=timeout,
        )
        profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http)
        cred = credential.Credential(options["SECRET_ID"], options["SECRET_KEY"], options.get("TOKEN") or None)
        self.client = sms_client.SmsClient(cred, options.get("REGION", "ap-guangzhou"), profile)

    def send(self, message: Message, addresses: list[str]) -> list[Result]:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        if len(addresses) > self.max_per_call:
            raise ValueError(f"at most {self.max_per_call} numbers a call")
        fields = message.fields()
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [e164(a) for a in addresses]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id
        request.TemplateParamSet = [fields.get(name, "") for name in self.template_params]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as e:  # an error answer, or the API could not be reached
            return self.failed_all(addresses, str(e.get_code() or "TencentCloudSDKException"), str(e.get_message()))
        by_number = {s.PhoneNumber: s for s in (response.SendStatusSet or [])}
        results = []
        for address in addresses:
            status = by_number.get(e164(address))
            if status is None:
                results.append(Result(address, False, "MissingStatus", "应答中没有该号码的发送状态"))
            elif status.Code == "Ok":
                results.append(Result(address, True, "Ok", status.Message or "", status.SerialNo or ""))
            else:
                results.append(Result(address, False, status.Code or "", status.Message or ""))
        return results
