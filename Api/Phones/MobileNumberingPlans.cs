using System.Collections.Frozen;

namespace Ujumbe.Api.Phones;

/// <summary>
/// The countries whose mobile numbers are checked in full (length and mobile prefix). These are also the
/// countries an account may have as its default, since their national numbers can be read.
/// </summary>
/// <remarks>
/// Sources: each regulator's national numbering plan as summarised in public numbering references
/// (ITU-T E.164 national plan notifications and the open-source libphonenumber metadata's mobile ranges),
/// checked against the operators' published prefixes. Prefixes list ranges held by mobile operators that send
/// and receive SMS; landline, VoIP, toll-free, premium, M2M-only, satellite and unassigned ranges are left out.
/// Numbering plans change (new operator blocks every year or two): when a real mobile number is refused,
/// add its prefix here with a test. NSN = national significant number, the digits after the calling code.
/// </remarks>
public static class MobileNumberingPlans
{
    /// <summary>In the order accounts are offered them.</summary>
    public static IReadOnlyList<MobileNumberingPlan> All { get; } =
    [
        // Tanzania (TCRA). NSN 9. 06x/07x are the mobile blocks; allocated: 61/62 Halotel, 65/67/71 Yas (Tigo),
        // 66 Smile, 68/69/78 Airtel, 73 TTCL, 74/75/76 Vodacom, 77 Zantel (now Yas), 79 Benson. Landlines 2x, VoIP 41.
        new("TZ", "255", "Tanzania", "Tanzanian", [9],
            ["61", "62", "65", "66", "67", "68", "69", "71", "73", "74", "75", "76", "77", "78", "79"]),

        // Kenya (CA). NSN 9. 07xx: Safaricom, Airtel, Telkom and smaller MVNOs all sit in 7xx;
        // 010x Airtel and 011x Safaricom are the newer blocks. Landlines 20, 4x-6x.
        new("KE", "254", "Kenya", "Kenyan", [9],
            ["7", "10", "11"]),

        // Uganda (UCC). NSN 9. 70/74/75 Airtel, 71 UTL (Uganda Telecom), 720 Smile, 726 Tangerine (Lyca),
        // 76/77/78 MTN. Landlines 20x, 3x, 4x. 79x (Africell, closed 2021) left out.
        new("UG", "256", "Uganda", "Ugandan", [9],
            ["70", "71", "720", "726", "74", "75", "76", "77", "78"]),

        // Rwanda (RURA). NSN 9. 72/73 Airtel (ex-Tigo), 78/79 MTN. Landlines 2x.
        new("RW", "250", "Rwanda", "Rwandan", [9],
            ["72", "73", "78", "79"]),

        // Burundi (ARCT). NSN 8, and no trunk prefix in national use. 29/71/72/76/79 Econet Leo,
        // 61/62/65-69 Lumitel (Viettel), 75/78 Smart, 77 Onatel. Landlines 22.
        new("BI", "257", "Burundi", "Burundian", [8],
            ["29", "61", "62", "65", "66", "67", "68", "69", "71", "72", "75", "76", "77", "78", "79"]),

        // Zambia (ZICTA). NSN 9. 95/75 Zamtel, 96/76 MTN, 97/77 Airtel, 98 Zedmobile. Landlines 21x.
        new("ZM", "260", "Zambia", "Zambian", [9],
            ["75", "76", "77", "95", "96", "97", "98"]),

        // Zimbabwe (POTRAZ). NSN 9 for mobiles (landlines vary, 5-10). 71 NetOne, 73 Telecel, 77/78 Econet.
        new("ZW", "263", "Zimbabwe", "Zimbabwean", [9],
            ["71", "73", "77", "78"]),

        // Malawi (MACRA). NSN 9. 88/89/31 TNM, 98/99 Airtel, 77 Globally Advanced Integrated Networks.
        // Landlines 1x (7 digits) and 21/22.
        new("MW", "265", "Malawi", "Malawian", [9],
            ["31", "77", "88", "89", "98", "99"]),

        // Mozambique (INCM). NSN 9, and no trunk prefix in national use. 82/83 Tmcel, 84/85 Vodacom, 86/87 Movitel.
        // Landlines 2x (8 digits); 89 is satellite.
        new("MZ", "258", "Mozambique", "Mozambican", [9],
            ["82", "83", "84", "85", "86", "87"]),

        // South Africa (ICASA). NSN 9. Mobile blocks 06x, 07x, 08[1-4]; 600-602, 666-669, 678-679, 69, 70, 75, 77
        // are not (yet) allocated to an operator; 080/086/087 are toll-free, shared-cost and VoIP.
        new("ZA", "27", "South Africa", "South African", [9],
            ["603", "604", "605", "606", "607", "608", "609", "61", "62", "63", "64", "65",
             "660", "661", "662", "663", "664", "665", "670", "671", "672", "673", "674", "675", "676", "677", "68",
             "71", "72", "73", "74", "76", "78", "79", "81", "82", "83", "84"]),

        // Nigeria (NCC). NSN 10. 070x/080x/081x/090x/091x by operator (MTN, Airtel, Glo, 9mobile, ntel, Smile, MAFAB...).
        // 0700 is special-rate, 0800 toll-free, 0707 and 0910/0914/0917-0919 unallocated. Landlines 7-8 digits.
        new("NG", "234", "Nigeria", "Nigerian", [10],
            ["701", "702", "703", "704", "705", "706", "708", "709",
             "801", "802", "803", "804", "805", "806", "807", "808", "809",
             "810", "811", "812", "813", "814", "815", "816", "817", "818", "819",
             "901", "902", "903", "904", "905", "906", "907", "908", "909",
             "911", "912", "913", "915", "916"]),

        // Ghana (NCA). NSN 9. 24/53/54/55/59/256/257 MTN, 20/50 Telecel (ex-Vodafone), 26/27/56/57 AT (ex-AirtelTigo),
        // 23 Glo, 28 Expresso. Landlines 3x; 29 is government-only.
        new("GH", "233", "Ghana", "Ghanaian", [9],
            ["20", "23", "24", "256", "257", "26", "27", "28", "50", "53", "54", "55", "56", "57", "59"]),
    ];

    private static readonly FrozenDictionary<string, MobileNumberingPlan> ByIsoCode =
        All.ToFrozenDictionary(p => p.IsoCode, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, MobileNumberingPlan> ByCallingCode =
        All.ToFrozenDictionary(p => p.CallingCode, StringComparer.Ordinal);

    /// <summary>The plan for an ISO 3166 alpha-2 code, in any case.</summary>
    public static bool TryGet(string? isoCode, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MobileNumberingPlan? plan)
    {
        if (isoCode is null)
        {
            plan = null;
            return false;
        }
        return ByIsoCode.TryGetValue(isoCode, out plan);
    }

    /// <summary>The plan for a country calling code ("255"), if it is one of these countries.</summary>
    public static bool TryGetByCallingCode(string callingCode, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MobileNumberingPlan? plan) =>
        ByCallingCode.TryGetValue(callingCode, out plan);
}
