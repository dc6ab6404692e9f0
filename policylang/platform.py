"""The national platform's names for settlement results (setlinfo).

Outputs a policy tags `as hifp_pay` etc. appear under these names beside the
policy's own; fund_pay_sumamt and psn_part_amt are derived from them.
"""

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
