"""The national platform's names for settlement results (setlinfo).

Outputs a policy tags `as hifp_pay` etc. appear under these names beside the
policy's own; fund_pay_sumamt and psn_part_amt are derived from them.

A policy that encodes a later stage alone (大病保险, 医疗救助) reads the earlier
stages' amounts from the claim: an input whose `field` is one of these names
(`input 基本医保支付: money field hifp_pay`). The combination rule: setlinfo carries
every name the policy defines, read (the claim's value) or computed (the output's);
each fund amount among them counts in fund_pay_sumamt once; a name may not be both
an input's field and an output's `as` (the resolver refuses it, E0424).
"""
from __future__ import annotations

from dataclasses import dataclass

# name -> (Chinese name, kind): fund amounts add up to fund_pay_sumamt.
OUTPUT_NAMES = {
    "act_pay_dedc": ("实际支付起付线", "amount"),
    "hifp_pay": ("统筹基金支出", "fund"),
    "pool_prop_selfpay": ("统筹支付比例", "ratio"),
    "hifmi_pay": ("居民大病保险", "fund"),
    "hifob_pay": ("职工大额医疗补助", "fund"),
    "cvlserv_pay": ("公务员医疗补助", "fund"),
    "maf_pay": ("医疗救助", "fund"),
    "hifes_pay": ("企业补充", "fund"),
    "acct_pay": ("个人账户", "amount"),
    "acct_mulaid_pay": ("个人账户共济", "amount"),
}
DERIVED = ("inscp_scp_amt", "medfee_sumamt", "fund_pay_sumamt", "psn_part_amt")


def is_fund(name: str) -> bool:
    return OUTPUT_NAMES.get(name, ("", ""))[1] == "fund"


@dataclass(frozen=True)
class Source:
    """Where one settlement name's value comes from: the claim (an input) or this policy (an output)."""

    platform: str
    kind: str  # "input" | "output"
    name: str  # the input's or the output's name in the policy


def sources(policy) -> list[Source]:
    """The policy's settlement names in setlinfo order: the stages read from the claim first (they were
    settled before this policy), then the outputs tagged `as`, each in declaration order."""
    read = [Source(i.field, "input", n) for n, i in policy.inputs.items() if i.field in OUTPUT_NAMES]
    computed = [Source(r.platform, "output", r.name) for r in policy.outputs if r.platform]
    return read + computed
