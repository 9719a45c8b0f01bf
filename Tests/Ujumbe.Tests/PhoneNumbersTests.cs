using Ujumbe.Api.Accounts;
using Ujumbe.Api.Phones;

namespace Ujumbe.Tests;

public sealed class PhoneNumbersTests
{
    private static string Normalized(string? input, string defaultCountry = "TZ")
    {
        Assert.True(PhoneNumbers.TryNormalize(input, defaultCountry, out var e164, out var error), $"{input}: {error}");
        Assert.Equal(string.Empty, error);
        return e164;
    }

    private static string Refused(string? input, string defaultCountry = "TZ")
    {
        Assert.False(PhoneNumbers.TryNormalize(input, defaultCountry, out var e164, out var error), $"{input} was accepted as {e164}");
        Assert.Equal(string.Empty, e164);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    // One real-looking mobile per country: default country, calling code, national significant number.
    public static TheoryData<string, string, string> Mobiles => new()
    {
        { "TZ", "255", "712345678" },
        { "KE", "254", "712345678" },
        { "UG", "256", "772123456" },
        { "RW", "250", "788123456" },
        { "BI", "257", "79123456" },
        { "ZM", "260", "971234567" },
        { "ZW", "263", "772123456" },
        { "MW", "265", "991234567" },
        { "MZ", "258", "841234567" },
        { "ZA", "27", "821234567" },
        { "NG", "234", "8031234567" },
        { "GH", "233", "241234567" },
    };

    [Theory]
    [MemberData(nameof(Mobiles))]
    public void A_mobile_in_E164_stays_as_it_is(string country, string code, string nsn) =>
        Assert.Equal($"+{code}{nsn}", Normalized($"+{code}{nsn}", country));

    [Theory]
    [MemberData(nameof(Mobiles))]
    public void A_mobile_in_international_form_without_plus_gets_one(string country, string code, string nsn) =>
        Assert.Equal($"+{code}{nsn}", Normalized($"{code}{nsn}", country));

    [Theory]
    [MemberData(nameof(Mobiles))]
    public void A_mobile_with_the_00_international_prefix_is_read_as_international(string country, string code, string nsn) =>
        Assert.Equal($"+{code}{nsn}", Normalized($"00{code}{nsn}", country));

    [Theory]
    [MemberData(nameof(Mobiles))]
    public void A_national_mobile_with_a_leading_zero_takes_the_default_country(string country, string code, string nsn) =>
        Assert.Equal($"+{code}{nsn}", Normalized($"0{nsn}", country));

    [Theory]
    [MemberData(nameof(Mobiles))]
    public void A_national_mobile_without_the_leading_zero_takes_the_default_country(string country, string code, string nsn) =>
        Assert.Equal($"+{code}{nsn}", Normalized(nsn, country));

    [Theory]
    [MemberData(nameof(Mobiles))]
    public void A_mobile_from_another_country_keeps_its_own_country(string country, string code, string nsn)
    {
        var elsewhere = country == "TZ" ? "KE" : "TZ";
        Assert.Equal($"+{code}{nsn}", Normalized($"+{code}{nsn}", elsewhere));
    }

    [Theory]
    [InlineData("+255221234567", "Tanzania")]     // Dar es Salaam landline
    [InlineData("+255412345678", "Tanzania")]     // VoIP
    [InlineData("+254201234567", "Kenya")]        // Nairobi landline
    [InlineData("+256312345678", "Uganda")]       // Kampala landline
    [InlineData("+250252123456", "Rwanda")]       // Kigali landline
    [InlineData("+25722201234", "Burundi")]       // Bujumbura landline
    [InlineData("+260211234567", "Zambia")]       // Lusaka landline
    [InlineData("+263242123456", "Zimbabwe")]     // Harare landline
    [InlineData("+265212345678", "Malawi")]       // not a mobile range
    [InlineData("+258211234567", "Mozambique")]   // Maputo range, mobile length
    [InlineData("+27211234567", "South Africa")]  // Cape Town landline
    [InlineData("+27861234567", "South Africa")]  // shared-cost
    [InlineData("+2348001234567", "Nigeria")]     // toll-free
    [InlineData("+233302123456", "Ghana")]        // Accra landline
    public void A_landline_or_unassigned_range_is_not_a_mobile_number(string input, string country) =>
        Assert.Equal($"\"{input}\" is not a mobile number in {country}", Refused(input));

    [Theory]
    [InlineData("+25571234567", "Tanzanian")]
    [InlineData("+25471234567", "Kenyan")]
    [InlineData("+25677212345", "Ugandan")]
    [InlineData("+25078812345", "Rwandan")]
    [InlineData("+2577912345", "Burundian")]
    [InlineData("+26097123456", "Zambian")]
    [InlineData("+26377212345", "Zimbabwean")]
    [InlineData("+26599123456", "Malawian")]
    [InlineData("+25884123456", "Mozambican")]
    [InlineData("+2782123456", "South African")]
    [InlineData("+234803123456", "Nigerian")]
    [InlineData("+23324123456", "Ghanaian")]
    public void A_mobile_a_digit_short_is_too_short(string input, string adjective) =>
        Assert.Equal($"\"{input}\" is too short for a {adjective} mobile number", Refused(input));

    [Theory]
    [InlineData("+2557123456789", "Tanzanian")]
    [InlineData("+2547123456789", "Kenyan")]
    [InlineData("+2567721234567", "Ugandan")]
    [InlineData("+2507881234567", "Rwandan")]
    [InlineData("+257791234567", "Burundian")]
    [InlineData("+2609712345678", "Zambian")]
    [InlineData("+2637721234567", "Zimbabwean")]
    [InlineData("+2659912345678", "Malawian")]
    [InlineData("+2588412345678", "Mozambican")]
    [InlineData("+278212345678", "South African")]
    [InlineData("+23480312345678", "Nigerian")]
    [InlineData("+2332412345678", "Ghanaian")]
    public void A_mobile_a_digit_long_is_too_long(string input, string adjective) =>
        Assert.Equal($"\"{input}\" is too long for a {adjective} mobile number", Refused(input));

    [Fact]
    public void The_messages_name_the_input_and_the_reason()
    {
        Assert.Equal("\"0712\" is too short for a Tanzanian mobile number", Refused("0712"));
        Assert.Equal("\"+255221234567\" is not a mobile number in Tanzania", Refused("+255221234567"));
        Assert.Equal("\"12ab\" contains characters a phone number cannot have", Refused("12ab"));
    }

    [Theory]
    [InlineData("+447700900123", "+447700900123")] // United Kingdom
    [InlineData("447700900123", "+447700900123")]
    [InlineData("00447700900123", "+447700900123")]
    [InlineData("+12025550123", "+12025550123")]   // United States
    [InlineData("+4930123456", "+4930123456")]     // Germany, a short but real length
    [InlineData("+8613812345678", "+8613812345678")] // China
    [InlineData("+24381234567", "+24381234567")]   // DR Congo: no country rules, so the generic rule applies
    public void A_number_elsewhere_needs_a_known_country_code_and_8_to_15_digits(string input, string expected) =>
        Assert.Equal(expected, Normalized(input));

    [Theory]
    [InlineData("+999123456789")]
    [InlineData("+0712345678")]
    [InlineData("+2591234567")]  // 259 is spare
    [InlineData("+80012345678")] // international freephone cannot take SMS
    public void An_unknown_country_code_is_refused(string input) =>
        Assert.Equal($"\"{input}\" does not start with a known country calling code", Refused(input));

    [Fact]
    public void Sixteen_digits_are_more_than_E164_allows() =>
        Assert.Equal("\"+4477009001234567\" is too long for a phone number: international numbers have at most 15 digits",
            Refused("+4477009001234567"));

    [Fact]
    public void Fewer_than_8_digits_in_all_are_too_short_elsewhere() =>
        Assert.Equal("\"+4477009\" is too short for a phone number in United Kingdom", Refused("+4477009"));

    [Theory]
    [InlineData("+1202555012", "too short", "North American Numbering Plan")] // NANP numbers are 10 digits after the 1
    [InlineData("+120255501234", "too long", "North American Numbering Plan")]
    [InlineData("+7912345678", "too short", "Russia and Kazakhstan")]        // so are Russia's and Kazakhstan's after the 7
    public void The_shared_plus_1_and_plus_7_plans_need_exactly_10_digits(string input, string reason, string region) =>
        Assert.Equal($"\"{input}\" is {reason} for a phone number in {region}", Refused(input));

    [Theory]
    [InlineData("+255 712 345 678")]
    [InlineData("+255-712-345-678")]
    [InlineData("+255.712.345.678")]
    [InlineData("+255 (712) 345-678")]
    [InlineData("(+255) 712 345 678")]
    [InlineData("0712 345 678")]
    [InlineData("(0712) 345.678")]
    [InlineData("  0712345678  ")]
    [InlineData("0712\t345\u00A0678")]
    [InlineData("0712\u2013345\u2013678")]
    [InlineData("00 255 712 345 678")]
    [InlineData("+255 (0)712 345 678")] // a trunk 0 after the country code is dropped
    public void Spaces_hyphens_dots_and_parentheses_are_ignored(string input) =>
        Assert.Equal("+255712345678", Normalized(input));

    [Theory]
    [InlineData("12ab")]
    [InlineData("0712*345678")]
    [InlineData("#0712345678")]
    [InlineData("0712345678#")]
    [InlineData("0712/345678")]
    [InlineData("0712345678 ext 12")]
    [InlineData("tel:+255712345678")]
    [InlineData("٠٧١٢٣٤٥٦٧٨")] // Arabic-Indic digits
    public void Junk_characters_make_the_number_invalid(string input) =>
        Assert.Equal($"\"{input}\" contains characters a phone number cannot have", Refused(input));

    [Theory]
    [InlineData("255+712345678")]
    [InlineData("++255712345678")]
    [InlineData("0712345678+")]
    public void A_plus_anywhere_but_the_start_is_invalid(string input) =>
        Assert.Equal($"\"{input}\" has a \"+\" that is not at the start", Refused(input));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public void Nothing_at_all_is_refused(string? input) =>
        Assert.Equal("a phone number is required", Refused(input));

    [Theory]
    [InlineData("+")]
    [InlineData("()")]
    [InlineData("- . -")]
    public void Separators_without_digits_are_refused(string input) =>
        Assert.Equal($"\"{input.Trim()}\" has no digits", Refused(input));

    [Fact]
    public void The_international_prefix_alone_is_too_short() =>
        Assert.Equal("\"00\" is too short to be a phone number", Refused("00"));

    [Fact]
    public void Very_long_input_is_refused_without_reading_it() =>
        Assert.EndsWith("is too long for a phone number", Refused(new string('1', 10_000)));

    [Fact]
    public void The_default_country_decides_what_a_national_number_means()
    {
        Assert.Equal("+255712345678", Normalized("0712345678", "TZ"));
        Assert.Equal("+254712345678", Normalized("0712345678", "KE"));
        Assert.Equal("+256712345678", Normalized("0712345678", "UG"));
        Assert.Equal("+255712345678", Normalized("712345678", "TZ"));
        Assert.Equal("+254712345678", Normalized("712345678", "KE"));
    }

    [Fact]
    public void A_national_number_that_is_a_mobile_in_one_country_can_be_a_landline_in_another()
    {
        Assert.Equal("+254110123456", Normalized("0110123456", "KE"));
        Assert.Equal("\"0110123456\" is not a mobile number in Tanzania", Refused("0110123456", "TZ"));
    }

    [Fact]
    public void Bare_digits_that_are_not_a_home_mobile_are_read_as_international()
    {
        Assert.Equal("+254712345678", Normalized("254712345678", "TZ"));
        Assert.Equal("+447700900123", Normalized("447700900123", "TZ"));
        // Nine digits are a Tanzanian mobile, not a Nigerian one (ten digits), so they are read as +7...
        Assert.Contains("too short", Refused("712345678", "NG"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_country_is_read_in_any_case() =>
        Assert.Equal("+255712345678", Normalized("0712345678", "tz"));

    [Fact]
    public void A_default_country_without_rules_still_allows_international_numbers()
    {
        Assert.Equal("+255712345678", Normalized("+255712345678", "XX"));
        Assert.Equal("\"0712345678\" has no country code, and national numbers cannot be read for the default country \"XX\"",
            Refused("0712345678", "XX"));
    }

    [Theory]
    [InlineData("0841234567", "+258841234567")] // Mozambique dials nationally without a 0; one typed out of habit is dropped
    [InlineData("079123456", "+25779123456")]   // Burundi likewise
    public void A_leading_zero_is_tolerated_where_the_country_has_no_trunk_prefix(string input, string expected) =>
        Assert.Equal(expected, Normalized(input, expected.StartsWith("+258", StringComparison.Ordinal) ? "MZ" : "BI"));

    [Fact]
    public void Every_country_with_full_rules_has_a_known_calling_code_and_is_an_account_country()
    {
        Assert.Equal(12, MobileNumberingPlans.All.Count);
        foreach (var plan in MobileNumberingPlans.All)
        {
            Assert.True(CountryCallingCodes.TryMatch(plan.CallingCode, out var code), plan.IsoCode);
            Assert.Equal(plan.CallingCode, code.Code);
            Assert.True(Countries.IsSupported(plan.IsoCode), plan.IsoCode);
            Assert.Equal(plan.CallingCode, Countries.CallingCodes[plan.IsoCode]);
        }
        Assert.Equal(["TZ", "KE", "UG", "RW", "BI", "ZM", "ZW", "MW", "MZ", "ZA", "NG", "GH"], Countries.CallingCodes.Keys);
        Assert.True(Countries.IsSupported(Countries.Default));
        Assert.False(Countries.IsSupported("US"));
        Assert.False(Countries.IsSupported(null));
    }

    [Fact]
    public void The_calling_code_table_matches_the_longest_code()
    {
        Assert.True(CountryCallingCodes.TryMatch("255712345678", out var tz));
        Assert.Equal("255", tz.Code);
        Assert.True(CountryCallingCodes.TryMatch("27821234567", out var za));
        Assert.Equal("27", za.Code);
        Assert.True(CountryCallingCodes.TryMatch("12025550123", out var us));
        Assert.Equal("1", us.Code);
        Assert.False(CountryCallingCodes.TryMatch("999", out _));
        Assert.False(CountryCallingCodes.TryMatch("", out _));
    }

    [Fact]
    public void A_plan_with_bad_data_is_refused_when_it_is_built()
    {
        Assert.Throws<ArgumentException>(() => new MobileNumberingPlan("TZ", "255", "Tanzania", "Tanzanian", [9], ["7a"]));
        Assert.Throws<ArgumentException>(() => new MobileNumberingPlan("TZ", "255", "Tanzania", "Tanzanian", [9], ["7123"]));
        Assert.Throws<ArgumentException>(() => new MobileNumberingPlan("TZ", "255", "Tanzania", "Tanzanian", [14], ["7"]));
        Assert.Throws<ArgumentException>(() => new MobileNumberingPlan("tz", "255", "Tanzania", "Tanzanian", [9], ["7"]));
        Assert.Throws<ArgumentException>(() => new MobileNumberingPlan("TZ", "0255", "Tanzania", "Tanzanian", [9], ["7"]));
    }

    [Fact]
    public void A_home_landline_typed_without_its_zero_is_refused_rather_than_sent_abroad()
    {
        // "221234567" has Tanzania's national length; read as international it would be Senegal (+221).
        var error = Refused("221234567");
        Assert.Contains("not a mobile number in Tanzania", error, StringComparison.Ordinal);
        Assert.Equal("+221771234567", Normalized("221771234567"));
    }

    [Fact]
    public void Normalising_a_valid_number_allocates_only_the_result()
    {
        string[] inputs = ["+255 712 345 678", "0712345678", "712345678", "00254712345678", "+447700900123", "+2348031234567"];
        foreach (var input in inputs)
        {
            Normalized(input);
        }

        const int Rounds = 1_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Rounds; i++)
        {
            foreach (var input in inputs)
            {
                PhoneNumbers.TryNormalize(input, "TZ", out _, out _);
            }
        }
        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(Rounds * inputs.Length);

        // The E.164 string itself is 48 or 56 bytes; anything more would be waste.
        Assert.True(perCall <= 56, $"{perCall} bytes per call");
    }
}
