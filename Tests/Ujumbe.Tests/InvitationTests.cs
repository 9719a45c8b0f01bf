using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>An account's owner gets a password through an invitation an operator (or the partner of a tenant) issues.</summary>
public sealed class InvitationTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private async Task<(string Id, string Email)> OpenAccountAsync()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = $"owner{Guid.NewGuid():N}@example.com";
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Invited " + Guid.NewGuid().ToString("N")[..6], owner_email = email }))
            .AssertJsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("id").GetString()!, email);
    }

    private static async Task<string> InviteAsync(HttpClient issuer, string path)
    {
        var invitation = await (await issuer.PostAsync(path, null)).AssertJsonAsync(HttpStatusCode.Created);
        Assert.True(invitation.GetProperty("expires_at").GetDateTime() > DateTime.UtcNow.AddDays(6));
        return invitation.GetProperty("token").GetString()!;
    }

    private async Task<HttpResponseMessage> AcceptAsync(string token, string password)
    {
        using var anonymous = ujumbe.Client();
        return await anonymous.PostAsJsonAsync("/v1/auth/invitations/accept", new { token, password });
    }

    private async Task<HttpStatusCode> SignInAsync(string email, string password)
    {
        using var anonymous = ujumbe.Client();
        return (await anonymous.PostAsJsonAsync("/v1/auth/login", new { email, password })).StatusCode;
    }

    [Fact]
    public async Task An_invited_owner_sets_a_password_once_and_signs_in_with_it()
    {
        var (id, email) = await OpenAccountAsync();
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var token = await InviteAsync(admin, $"/v1/admin/accounts/{id}/invitation");
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(email, "a long enough password"));

        var accepted = await (await AcceptAsync(token, "a long enough password")).AssertJsonAsync();
        Assert.Equal(email, accepted.GetProperty("email").GetString());
        Assert.Equal(HttpStatusCode.OK, await SignInAsync(email, "a long enough password"));

        // The link works once: nobody who sees it later can take the account over.
        await (await AcceptAsync(token, "someone else's password")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Equal(HttpStatusCode.OK, await SignInAsync(email, "a long enough password"));
        // Only its hash is kept.
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>("select count(*) from invitations where token_hash = sha256(convert_to($1, 'UTF8'))", token));
    }

    [Fact]
    public async Task A_new_invitation_voids_the_earlier_one_and_an_expired_one_does_not_work()
    {
        var (id, email) = await OpenAccountAsync();
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var first = await InviteAsync(admin, $"/v1/admin/accounts/{id}/invitation");
        var second = await InviteAsync(admin, $"/v1/admin/accounts/{id}/invitation");

        await (await AcceptAsync(first, "a long enough password")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await ujumbe.Database.ExecuteAsync(
            "update invitations set expires_at = now() - interval '1 second' where user_id = (select id from users where email = $1)", email);
        await (await AcceptAsync(second, "a long enough password")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(email, "a long enough password"));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("")]
    public async Task A_password_shorter_than_12_characters_is_refused_and_the_invitation_still_works(string password)
    {
        var (id, email) = await OpenAccountAsync();
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var token = await InviteAsync(admin, $"/v1/admin/accounts/{id}/invitation");

        var problem = await (await AcceptAsync(token, password)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
        await (await AcceptAsync(token, "twelve chars")).AssertJsonAsync();
        Assert.Equal(HttpStatusCode.OK, await SignInAsync(email, "twelve chars"));
    }

    [Fact]
    public async Task Only_operators_invite_any_owner_and_a_partner_only_its_own_tenants()
    {
        var (id, _) = await OpenAccountAsync();
        using var owner = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await (await owner.PostAsync($"/v1/admin/accounts/{id}/invitation", null)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var partnerKey = (await (await admin.PostAsync($"/v1/admin/accounts/{id}/partner", null)).AssertJsonAsync())
            .GetProperty("api_key").GetProperty("secret").GetString()!;
        using var partner = ujumbe.Client(partnerKey);
        var tenantEmail = $"tenant{Guid.NewGuid():N}@example.com";
        var tenant = await (await partner.PostAsJsonAsync("/v1/tenants", new { name = "Duka", email = tenantEmail })).AssertJsonAsync(HttpStatusCode.Created);
        var token = await InviteAsync(partner, $"/v1/tenants/{tenant.GetProperty("id").GetString()}/invitation");
        await (await AcceptAsync(token, "the tenant's own password")).AssertJsonAsync();
        Assert.Equal(HttpStatusCode.OK, await SignInAsync(tenantEmail, "the tenant's own password"));

        // Another account (not its tenant) is not found for the partner.
        var (other, _) = await OpenAccountAsync();
        await (await partner.PostAsync($"/v1/tenants/{other}/invitation", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }
}
