using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ujumbe.Tests.Infrastructure;

public static class HttpAssertions
{
    /// <summary>Asserts a problem+json answer with <paramref name="status"/> and <paramref name="code"/>; returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("trace_id").GetString()));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // never a stack trace
        return problem;
    }

    public static async Task<JsonElement> AssertJsonAsync(this HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (no fixed sleeps).</summary>
    public static Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? within = null, string? because = null) =>
        EventuallyAsync(condition, within ?? TimeSpan.FromSeconds(10),
            () => Task.FromResult("Condition not met in time" + (because is null ? "" : ": " + because)));

    /// <summary>
    /// As above, failing with what <paramref name="explain"/> says at the deadline: for what is known only then,
    /// such as the last answer seen or a server's log.
    /// </summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within, Func<Task<string>> explain)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(await explain());
            }
            await Task.Delay(50);
        }
    }
}
