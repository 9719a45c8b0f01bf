namespace Ujumbe.Api.Phones;

/// <summary>One ITU-T E.164 country calling code.</summary>
/// <param name="Code">1 to 3 digits, no "+".</param>
/// <param name="Region">Who uses it, for people reading the table and messages.</param>
/// <param name="NationalNumberLength">
/// Set only where every number under the code has one NSN length (the shared +1 and +7 plans: 10 digits),
/// so a number that is a digit short is refused rather than sent abroad.
/// </param>
public sealed record CountryCallingCode(string Code, string Region, int? NationalNumberLength = null);

/// <summary>
/// The ITU-T E.164 country calling codes in service (ITU-T E.164 Annex to the Operational Bulletin, "List of
/// ITU-T Recommendation E.164 assigned country codes"). Codes are prefix-free, so a number starts with at most one.
/// </summary>
/// <remarks>
/// Left out on purpose: spare and reserved codes, 379 (Vatican, assigned but unused: it is dialled as +39),
/// and global services that are not phones an SMS can reach: 800 freephone, 808 shared cost, 878 UPT,
/// 888 OCHA, 979 premium rate. Satellite and international mobile networks (870, 881, 882, 883) are kept.
/// </remarks>
public static class CountryCallingCodes
{
    public static IReadOnlyList<CountryCallingCode> All { get; } =
    [
        // Zone 1: North American Numbering Plan (US, Canada, much of the Caribbean). Zone 7: Russia, Kazakhstan.
        new("1", "North American Numbering Plan", 10),
        new("7", "Russia and Kazakhstan", 10),

        // Zone 2: Africa and a few islands.
        new("20", "Egypt"), new("27", "South Africa"),
        new("211", "South Sudan"), new("212", "Morocco"), new("213", "Algeria"), new("216", "Tunisia"), new("218", "Libya"),
        new("220", "Gambia"), new("221", "Senegal"), new("222", "Mauritania"), new("223", "Mali"), new("224", "Guinea"),
        new("225", "Côte d'Ivoire"), new("226", "Burkina Faso"), new("227", "Niger"), new("228", "Togo"), new("229", "Benin"),
        new("230", "Mauritius"), new("231", "Liberia"), new("232", "Sierra Leone"), new("233", "Ghana"), new("234", "Nigeria"),
        new("235", "Chad"), new("236", "Central African Republic"), new("237", "Cameroon"), new("238", "Cabo Verde"),
        new("239", "São Tomé and Príncipe"), new("240", "Equatorial Guinea"), new("241", "Gabon"), new("242", "Congo"),
        new("243", "DR Congo"), new("244", "Angola"), new("245", "Guinea-Bissau"), new("246", "Diego Garcia"),
        new("247", "Ascension"), new("248", "Seychelles"), new("249", "Sudan"), new("250", "Rwanda"), new("251", "Ethiopia"),
        new("252", "Somalia"), new("253", "Djibouti"), new("254", "Kenya"), new("255", "Tanzania"), new("256", "Uganda"),
        new("257", "Burundi"), new("258", "Mozambique"), new("260", "Zambia"), new("261", "Madagascar"),
        new("262", "Réunion and Mayotte"), new("263", "Zimbabwe"), new("264", "Namibia"), new("265", "Malawi"),
        new("266", "Lesotho"), new("267", "Botswana"), new("268", "Eswatini"), new("269", "Comoros"),
        new("290", "Saint Helena and Tristan da Cunha"), new("291", "Eritrea"), new("297", "Aruba"),
        new("298", "Faroe Islands"), new("299", "Greenland"),

        // Zones 3 and 4: Europe.
        new("30", "Greece"), new("31", "Netherlands"), new("32", "Belgium"), new("33", "France"), new("34", "Spain"),
        new("36", "Hungary"), new("39", "Italy and Vatican City"),
        new("350", "Gibraltar"), new("351", "Portugal"), new("352", "Luxembourg"), new("353", "Ireland"), new("354", "Iceland"),
        new("355", "Albania"), new("356", "Malta"), new("357", "Cyprus"), new("358", "Finland and Åland"), new("359", "Bulgaria"),
        new("370", "Lithuania"), new("371", "Latvia"), new("372", "Estonia"), new("373", "Moldova"), new("374", "Armenia"),
        new("375", "Belarus"), new("376", "Andorra"), new("377", "Monaco"), new("378", "San Marino"),
        new("380", "Ukraine"), new("381", "Serbia"), new("382", "Montenegro"), new("383", "Kosovo"), new("385", "Croatia"),
        new("386", "Slovenia"), new("387", "Bosnia and Herzegovina"), new("389", "North Macedonia"),
        new("40", "Romania"), new("41", "Switzerland"), new("43", "Austria"), new("44", "United Kingdom"), new("45", "Denmark"),
        new("46", "Sweden"), new("47", "Norway"), new("48", "Poland"), new("49", "Germany"),
        new("420", "Czechia"), new("421", "Slovakia"), new("423", "Liechtenstein"),

        // Zone 5: South and Central America.
        new("51", "Peru"), new("52", "Mexico"), new("53", "Cuba"), new("54", "Argentina"), new("55", "Brazil"), new("56", "Chile"),
        new("57", "Colombia"), new("58", "Venezuela"),
        new("500", "Falkland Islands"), new("501", "Belize"), new("502", "Guatemala"), new("503", "El Salvador"),
        new("504", "Honduras"), new("505", "Nicaragua"), new("506", "Costa Rica"), new("507", "Panama"),
        new("508", "Saint Pierre and Miquelon"), new("509", "Haiti"),
        new("590", "Guadeloupe, Saint Barthélemy and Saint Martin"), new("591", "Bolivia"), new("592", "Guyana"),
        new("593", "Ecuador"), new("594", "French Guiana"), new("595", "Paraguay"), new("596", "Martinique"),
        new("597", "Suriname"), new("598", "Uruguay"), new("599", "Curaçao and the Caribbean Netherlands"),

        // Zone 6: Southeast Asia and Oceania.
        new("60", "Malaysia"), new("61", "Australia"), new("62", "Indonesia"), new("63", "Philippines"), new("64", "New Zealand"),
        new("65", "Singapore"), new("66", "Thailand"),
        new("670", "Timor-Leste"), new("672", "Norfolk Island and Australian Antarctic bases"), new("673", "Brunei"),
        new("674", "Nauru"), new("675", "Papua New Guinea"), new("676", "Tonga"), new("677", "Solomon Islands"),
        new("678", "Vanuatu"), new("679", "Fiji"), new("680", "Palau"), new("681", "Wallis and Futuna"),
        new("682", "Cook Islands"), new("683", "Niue"), new("685", "Samoa"), new("686", "Kiribati"),
        new("687", "New Caledonia"), new("688", "Tuvalu"), new("689", "French Polynesia"), new("690", "Tokelau"),
        new("691", "Micronesia"), new("692", "Marshall Islands"),

        // Zone 8: East Asia and global services.
        new("81", "Japan"), new("82", "South Korea"), new("84", "Vietnam"), new("86", "China"),
        new("850", "North Korea"), new("852", "Hong Kong"), new("853", "Macao"), new("855", "Cambodia"), new("856", "Laos"),
        new("870", "Inmarsat"), new("880", "Bangladesh"), new("881", "Global Mobile Satellite System"),
        new("882", "International Networks"), new("883", "International Networks"), new("886", "Taiwan"),

        // Zone 9: West, Central and South Asia, and the Middle East.
        new("90", "Türkiye"), new("91", "India"), new("92", "Pakistan"), new("93", "Afghanistan"), new("94", "Sri Lanka"),
        new("95", "Myanmar"), new("98", "Iran"),
        new("960", "Maldives"), new("961", "Lebanon"), new("962", "Jordan"), new("963", "Syria"), new("964", "Iraq"),
        new("965", "Kuwait"), new("966", "Saudi Arabia"), new("967", "Yemen"), new("968", "Oman"), new("970", "Palestine"),
        new("971", "United Arab Emirates"), new("972", "Israel"), new("973", "Bahrain"), new("974", "Qatar"),
        new("975", "Bhutan"), new("976", "Mongolia"), new("977", "Nepal"), new("992", "Tajikistan"),
        new("993", "Turkmenistan"), new("994", "Azerbaijan"), new("995", "Georgia"), new("996", "Kyrgyzstan"),
        new("998", "Uzbekistan"),
    ];

    // One slot per possible code: 1-digit codes at 0..9, 2-digit at 10..109, 3-digit at 110..1109.
    private static readonly CountryCallingCode?[] ByKey = BuildIndex();

    /// <summary>
    /// The calling code at the start of <paramref name="digits"/> (ASCII digits, no "+"), longest match first.
    /// </summary>
    public static bool TryMatch(ReadOnlySpan<char> digits, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CountryCallingCode? code)
    {
        for (var length = Math.Min(3, digits.Length); length >= 1; length--)
        {
            code = ByKey[Key(digits[..length])];
            if (code is not null)
            {
                return true;
            }
        }
        code = null;
        return false;
    }

    private static int Key(ReadOnlySpan<char> code)
    {
        var value = 0;
        foreach (var c in code)
        {
            value = (value * 10) + (c - '0');
        }
        return code.Length switch
        {
            1 => value,
            2 => 10 + value,
            _ => 110 + value,
        };
    }

    private static CountryCallingCode?[] BuildIndex()
    {
        var index = new CountryCallingCode?[1110];
        foreach (var entry in All)
        {
            if (entry.Code.Length is < 1 or > 3 || entry.Code[0] == '0' || !entry.Code.All(char.IsAsciiDigit))
            {
                throw new InvalidOperationException($"'{entry.Code}' is not a country calling code.");
            }
            var key = Key(entry.Code);
            if (index[key] is not null)
            {
                throw new InvalidOperationException($"Country calling code {entry.Code} is listed twice.");
            }
            index[key] = entry;
        }
        // E.164 codes are prefix-free; a table that breaks that would make matches ambiguous.
        foreach (var entry in All)
        {
            for (var length = 1; length < entry.Code.Length; length++)
            {
                if (index[Key(entry.Code.AsSpan(0, length))] is { } shorter)
                {
                    throw new InvalidOperationException($"Country calling code {shorter.Code} is a prefix of {entry.Code}.");
                }
            }
        }
        return index;
    }
}
