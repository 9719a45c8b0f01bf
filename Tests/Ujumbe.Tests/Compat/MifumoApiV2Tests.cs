using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;
using static Ujumbe.Tests.Compat.MifumoAssert;

namespace Ujumbe.Tests.Compat;

/// <summary>
/// Mifumo's API v2 (seed 001) through the gateway, against the real stack: the white-label partner's tenants, their
/// ZenoPay mobile-money payments (the /v1 payments, with the simulator as the aggregator), the JWT login whose
/// access token works as Bearer, and pagination — each in the envelope, with its errors.
/// </summary>
public sealed class MifumoApiV2Tests(PaymentsFixture ujumbe) : IClassFixture<PaymentsFixture>
{
    private const string Base = "/compat/mifumo/api/integration/v1";
    private const string Tenants = Base + "/partner/tenants";
    private const string Login = "/compat/mifumo/api/auth/login/";

    private static async Task<string> CreateTenantAsync(HttpClient partner, string name)
    {
        using var created = await partner.PostAsync(Tenants + "/create/",
            Json($$"""{ "name": "{{name}}", "email": "{{Guid.NewGuid():N}}@tenant.example" }"""));
        return (await EnvelopeAsync(created, HttpStatusCode.Created, success: true)).GetProperty("data").GetProperty("id").GetString()!;
    }

    // ---- White-Label / Partner API --------------------------------------------------------------------

    [Fact]
    public async Task A_partner_creates_tenants_and_lists_and_gets_them_page_by_page()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var email = $"{Guid.NewGuid():N}@tenant.example";
        using var created = await partner.Client.PostAsync(Tenants + "/create/",
            Json($$"""{ "name": "Duka la Mama", "email": "{{email}}", "time_zone": "Africa/Nairobi" }"""));
        var tenant = (await EnvelopeAsync(created, HttpStatusCode.Created, success: true)).GetProperty("data");
        var id = tenant.GetProperty("id").GetString()!;
        Assert.StartsWith("acct_", id, StringComparison.Ordinal);
        Assert.Equal(email, tenant.GetProperty("email").GetString());
        Assert.Equal("active", tenant.GetProperty("status").GetString());
        Assert.Equal(0, tenant.GetProperty("balance").GetInt64());

        // The same tenant as /v1's.
        Assert.Equal("Duka la Mama", (await (await partner.Client.GetAsync($"/v1/tenants/{id}")).AssertJsonAsync()).GetProperty("name").GetString());
        using (var got = await partner.Client.GetAsync($"{Tenants}/{id}/"))
        {
            Assert.Equal("Africa/Nairobi", (await EnvelopeAsync(got, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("time_zone").GetString());
        }

        await CreateTenantAsync(partner.Client, "Second");
        await CreateTenantAsync(partner.Client, "Third");
        // page and page_size, as seed 001's pagination says; newest first.
        using (var page = await partner.Client.GetAsync(Tenants + "/?page=2&page_size=2"))
        {
            var data = (await EnvelopeAsync(page, HttpStatusCode.OK, success: true)).GetProperty("data");
            Assert.Equal(3, data.GetProperty("count").GetInt32());
            Assert.Equal(2, data.GetProperty("page").GetInt32());
            Assert.Equal(2, data.GetProperty("page_size").GetInt32());
            Assert.Equal(id, Assert.Single(data.GetProperty("results").EnumerateArray()).GetProperty("id").GetString());
        }
        using (var defaults = await partner.Client.GetAsync(Tenants))
        {
            var data = (await EnvelopeAsync(defaults, HttpStatusCode.OK, success: true)).GetProperty("data");
            Assert.Equal(20, data.GetProperty("page_size").GetInt32());
            Assert.Equal(3, data.GetProperty("results").GetArrayLength());
        }
        using (var tooBig = await partner.Client.GetAsync(Tenants + "/?page_size=101"))
        {
            var body = await EnvelopeAsync(tooBig, HttpStatusCode.BadRequest, success: false);
            Assert.Equal("VALIDATION_FAILED", body.GetProperty("error_code").GetString());
            Assert.True(body.GetProperty("details").TryGetProperty("page_size", out _));
        }
    }

    [Fact]
    public async Task Tenant_errors_are_in_the_envelope_and_other_partners_tenants_are_not_found()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        using var rival = await ujumbe.OpenPartnerAsync();
        var rivalsTenant = await CreateTenantAsync(rival.Client, "Rival's");

        using (var missing = await partner.Client.PostAsync(Tenants + "/create/", Json("""{ "email": "not an email" }""")))
        {
            var body = await EnvelopeAsync(missing, HttpStatusCode.BadRequest, success: false);
            Assert.Equal("VALIDATION_FAILED", body.GetProperty("error_code").GetString());
            Assert.Equal(["email", "name"], body.GetProperty("details").EnumerateObject().Select(p => p.Name).Order());
        }
        var email = $"{Guid.NewGuid():N}@tenant.example";
        using (var first = await partner.Client.PostAsync(Tenants + "/create/", Json($$"""{ "name": "One", "email": "{{email}}" }""")))
        {
            await EnvelopeAsync(first, HttpStatusCode.Created, success: true);
        }
        using (var taken = await partner.Client.PostAsync(Tenants + "/create/", Json($$"""{ "name": "Two", "email": "{{email}}" }""")))
        {
            Assert.Equal("CONFLICT", await ErrorCodeAsync(taken, HttpStatusCode.Conflict));
        }
        foreach (var notMine in new[] { rivalsTenant, partner.AccountId, $"acct_{Guid.NewGuid():N}", "garbage" })
        {
            using var response = await partner.Client.GetAsync($"{Tenants}/{notMine}/");
            Assert.Equal("NOT_FOUND", await ErrorCodeAsync(response, HttpStatusCode.NotFound));
        }

        // An ordinary account's key: no partner scope, no partner.
        using var ordinary = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        using (var refused = await ordinary.PostAsync(Tenants + "/create/", Json("""{ "name": "X", "email": "x@tenant.example" }""")))
        {
            Assert.Equal("FORBIDDEN", await ErrorCodeAsync(refused, HttpStatusCode.Forbidden));
        }
        // A partner key of an account that an operator unmarked: the scope alone is not enough.
        using var former = await ujumbe.OpenPartnerAsync();
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.DeleteAsync($"/v1/admin/accounts/{former.AccountId}/partner")).AssertJsonAsync();
        using var unmarked = await former.Client.GetAsync(Tenants + "/");
        Assert.Equal("FORBIDDEN", await ErrorCodeAsync(unmarked, HttpStatusCode.Forbidden));
    }

    // ---- Payment Integration: ZenoPay mobile money ----------------------------------------------------------

    [Fact]
    public async Task A_partner_pays_for_a_tenant_by_mobile_money_and_the_tenant_is_credited_once_completed()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var tenantId = await CreateTenantAsync(partner.Client, "Paying tenant");
        var phone = PaymentSteps.VodacomNumber();

        using var initiated = await partner.Client.PostAsync($"{Tenants}/{tenantId}/payments/initiate/",
            Json($$"""{ "credits": 100, "phone_number": "{{phone}}", "provider": "vodacom" }"""));
        var payment = (await EnvelopeAsync(initiated, HttpStatusCode.Created, success: true)).GetProperty("data");
        var paymentId = payment.GetProperty("payment_id").GetString()!;
        Assert.Equal("pending", payment.GetProperty("status").GetString());
        Assert.Equal(tenantId, payment.GetProperty("account_id").GetString());
        Assert.Equal(2500m, payment.GetProperty("amount").GetDecimal());
        Assert.Contains(phone, payment.GetProperty("instructions").GetString()!, StringComparison.Ordinal);

        // "Credits are automatically added when payment completes."
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var status = await partner.Client.GetAsync($"{Tenants}/{tenantId}/payments/{paymentId}/");
            return (await EnvelopeAsync(status, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("status").GetString() == "completed";
        }, TimeSpan.FromSeconds(15), "the payment completes");
        Assert.Equal(1, await ujumbe.CreditPostingsAsync(paymentId));

        // "Tenants use your API key for all operations": the partner's key, acting for the tenant.
        using var acting = partner.ActingFor(ujumbe, tenantId);
        using var balance = await acting.GetAsync(Base + "/sms/balance/");
        Assert.Equal(100, (await EnvelopeAsync(balance, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("balance").GetInt64());
        using var tenant = await partner.Client.GetAsync($"{Tenants}/{tenantId}/");
        Assert.Equal(100, (await EnvelopeAsync(tenant, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("available").GetInt64());
        Assert.Equal(0, await partner.Client.AvailableAsync());
    }

    [Fact]
    public async Task Payment_errors_are_in_the_envelope_and_nothing_is_charged()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var tenantId = await CreateTenantAsync(partner.Client, "Tenant");
        var otherTenant = await CreateTenantAsync(partner.Client, "Other tenant");
        var initiate = $"{Tenants}/{tenantId}/payments/initiate/";

        using (var network = await partner.Client.PostAsync(initiate, Json($$"""{ "credits": 10, "phone_number": "{{PaymentSteps.VodacomNumber()}}", "provider": "mpesa" }""")))
        {
            var body = await EnvelopeAsync(network, HttpStatusCode.BadRequest, success: false);
            Assert.Equal("VALIDATION_FAILED", body.GetProperty("error_code").GetString());
            Assert.True(body.GetProperty("details").TryGetProperty("provider", out _));
        }
        // A Tigo wallet cannot pay through Vodacom: the seed's INVALID_PHONE, naming the field.
        using (var wrongNetwork = await partner.Client.PostAsync(initiate, Json("""{ "credits": 10, "phone_number": "+255712345678", "provider": "vodacom" }""")))
        {
            var body = await EnvelopeAsync(wrongNetwork, HttpStatusCode.BadRequest, success: false);
            Assert.Equal("INVALID_PHONE", body.GetProperty("error_code").GetString());
            Assert.True(body.GetProperty("details").TryGetProperty("phone_number", out _));
        }
        using (var credits = await partner.Client.PostAsync(initiate, Json($$"""{ "credits": 0, "phone_number": "{{PaymentSteps.VodacomNumber()}}", "provider": "vodacom" }""")))
        {
            Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(credits, HttpStatusCode.BadRequest));
        }
        using (var notJson = await partner.Client.PostAsync(initiate, Json("{ credits: ")))
        {
            Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(notJson, HttpStatusCode.BadRequest));
        }
        using (var unknown = await partner.Client.PostAsync($"{Tenants}/acct_{Guid.NewGuid():N}/payments/initiate/",
            Json($$"""{ "credits": 10, "phone_number": "{{PaymentSteps.VodacomNumber()}}", "provider": "vodacom" }""")))
        {
            Assert.Equal("NOT_FOUND", await ErrorCodeAsync(unknown, HttpStatusCode.NotFound));
        }
        Assert.Equal(0, await ujumbe.Database.ScalarAsync<long>("select count(*) from payments where account_id = $1", PaymentSteps.Uuid(tenantId)));

        // A payment is found under its own tenant only.
        using var made = await partner.Client.PostAsync(initiate, Json($$"""{ "credits": 10, "phone_number": "{{PaymentSteps.VodacomNumber()}}", "provider": "vodacom" }"""));
        var paymentId = (await EnvelopeAsync(made, HttpStatusCode.Created, success: true)).GetProperty("data").GetProperty("payment_id").GetString()!;
        using (var elsewhere = await partner.Client.GetAsync($"{Tenants}/{otherTenant}/payments/{paymentId}/"))
        {
            Assert.Equal("NOT_FOUND", await ErrorCodeAsync(elsewhere, HttpStatusCode.NotFound));
        }
        using (var noSuch = await partner.Client.GetAsync($"{Tenants}/{tenantId}/payments/pay_{Guid.NewGuid():N}/"))
        {
            Assert.Equal("NOT_FOUND", await ErrorCodeAsync(noSuch, HttpStatusCode.NotFound));
        }
    }

    // ---- Authentication: JWT login ------------------------------------------------------------------------

    /// <summary>An account whose owner has a password (as after accepting the invitation); its email and password.</summary>
    private async Task<(string Email, string Password)> NewOwnerAsync()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Mifumo login", owner_email = email }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{created.GetProperty("id").GetString()}/credits", new { amount = 42, reason = "test" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var password = "correct horse " + Guid.NewGuid().ToString("N")[..6];
        var hasher = new Microsoft.AspNetCore.Identity.PasswordHasher<object>();
        await ujumbe.Database.ExecuteAsync("update users set password_hash = $1 where email = $2", hasher.HashPassword(null!, password), email);
        return (email, password);
    }

    [Fact]
    public async Task Login_gives_an_access_token_that_works_as_bearer_on_the_integration_api()
    {
        var (email, password) = await NewOwnerAsync();
        using var anonymous = ujumbe.Client();
        using var login = await anonymous.PostAsync(Login, Json($$"""{ "email": "{{email}}", "password": "{{password}}" }"""));
        var data = (await EnvelopeAsync(login, HttpStatusCode.OK, success: true)).GetProperty("data");
        Assert.Equal("Bearer", data.GetProperty("token_type").GetString());
        Assert.True(data.GetProperty("expires_in").GetInt32() > 0);
        var token = data.GetProperty("access_token").GetString()!;

        // "Use access_token in Authorization header".
        using var client = ujumbe.Client(token);
        using var balance = await client.GetAsync(Base + "/sms/balance/");
        Assert.Equal(42, (await EnvelopeAsync(balance, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("balance").GetInt64());

        // Without the trailing slash, and with username for the email, as Django's login takes it.
        using var again = await anonymous.PostAsync(Login.TrimEnd('/'), Json($$"""{ "username": "{{email}}", "password": "{{password}}" }"""));
        await EnvelopeAsync(again, HttpStatusCode.OK, success: true);

        // Only Mifumo's seed documents a login: SMSPop's paths still take API tokens only.
        using var smsPop = await client.GetAsync("/compat/smspop/api/campaigns");
        Assert.Equal(HttpStatusCode.Unauthorized, smsPop.StatusCode);
    }

    [Fact]
    public async Task Login_errors_are_in_the_envelope()
    {
        var (email, password) = await NewOwnerAsync();
        using var anonymous = ujumbe.Client();
        using (var wrong = await anonymous.PostAsync(Login, Json($$"""{ "email": "{{email}}", "password": "not {{password}}" }""")))
        {
            var body = await EnvelopeAsync(wrong, HttpStatusCode.Unauthorized, success: false);
            Assert.Equal("INVALID_CREDENTIALS", body.GetProperty("error_code").GetString());
            Assert.Equal("Invalid email or password", body.GetProperty("message").GetString());
        }
        using (var missing = await anonymous.PostAsync(Login, Json("""{ "email": "someone@example.com" }""")))
        {
            var body = await EnvelopeAsync(missing, HttpStatusCode.BadRequest, success: false);
            Assert.Equal("VALIDATION_FAILED", body.GetProperty("error_code").GetString());
            Assert.True(body.GetProperty("details").TryGetProperty("password", out _));
        }
        using (var notJson = await anonymous.PostAsync(Login, Json("email=a")))
        {
            Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(notJson, HttpStatusCode.BadRequest));
        }
        // A made-up token is no credential.
        using var forged = ujumbe.Client("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
        using var refused = await forged.GetAsync(Base + "/sms/balance/");
        Assert.Equal("INVALID_CREDENTIALS", await ErrorCodeAsync(refused, HttpStatusCode.Unauthorized));
    }
}
