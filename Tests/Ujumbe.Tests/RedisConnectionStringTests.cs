using Ujumbe.Shared.Redis;

namespace Ujumbe.Tests;

/// <summary>The StackExchange.Redis/Aspire connection string format, and what is refused.</summary>
public sealed class RedisConnectionStringTests
{
    [Fact]
    public void The_string_aspire_injects_gives_host_port_and_password()
    {
        var options = RedisOptions.Parse("127.0.0.1:63799,password=abc");

        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(63799, options.Port);
        Assert.Equal("abc", options.Password);
        Assert.Null(options.User);
        Assert.Equal(0, options.DefaultDatabase);
    }

    [Fact]
    public void Unset_options_have_the_documented_defaults()
    {
        var options = RedisOptions.Parse("redis.internal");

        Assert.Equal("redis.internal", options.Host);
        Assert.Equal(6379, options.Port);
        Assert.Null(options.Password);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.CommandTimeout);
        Assert.True(options.AbortConnect);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ReconnectMinDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ReconnectMaxDelay);
    }

    [Fact]
    public void Every_supported_option_is_read_whatever_its_case_and_spacing()
    {
        var options = RedisOptions.Parse(
            " cache:7000 , USER=app , Password=p=w!rd , defaultdatabase=3 , ssl=False , connectTimeout=1500 , asyncTimeout=250 , abortConnect=false , name=gateway-1 ");

        Assert.Equal("cache", options.Host);
        Assert.Equal(7000, options.Port);
        Assert.Equal("app", options.User);
        Assert.Equal("p=w!rd", options.Password); // split at the first '=' only
        Assert.Equal(3, options.DefaultDatabase);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.CommandTimeout);
        Assert.False(options.AbortConnect);
        Assert.Equal("gateway-1", options.ClientName);
    }

    [Fact]
    public void SyncTimeout_is_accepted_as_the_command_timeout()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(900), RedisOptions.Parse("h:1,syncTimeout=900").CommandTimeout);
    }

    [Theory]
    [InlineData("[::1]:6380", "::1", 6380)]
    [InlineData("[::1]", "::1", 6379)]
    [InlineData("localhost:1", "localhost", 1)]
    public void Endpoints_may_be_names_or_addresses_with_ipv6_in_brackets(string text, string host, int port)
    {
        var options = RedisOptions.Parse(text);

        Assert.Equal(host, options.Host);
        Assert.Equal(port, options.Port);
    }

    [Theory]
    [InlineData("h:1,ssl=true")]
    [InlineData("h:1,sslHost=h")]
    [InlineData("h:1,sslProtocols=tls12")]
    public void Tls_is_refused_saying_it_is_not_supported(string text)
    {
        var error = Assert.Throws<NotSupportedException>(() => RedisOptions.Parse(text));

        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("h:1,keepAlive=60", "Unsupported option 'keepAlive'")]
    [InlineData("h:1,h2:2", "more than one endpoint")]
    [InlineData("h:1,serviceName=mymaster", "Sentinel")]
    [InlineData("password=x", "no host:port")]
    [InlineData("", "no host:port")]
    [InlineData("h:port", "'port' must be a whole number")]
    [InlineData("h:0", "'port' must be a whole number from 1 to 65535")]
    [InlineData("h:70000", "'port' must be a whole number from 1 to 65535")]
    [InlineData("h:1,defaultDatabase=-1", "'defaultDatabase' must be a whole number")]
    [InlineData("h:1,connectTimeout=0", "'connectTimeout' must be a whole number from 1")]
    [InlineData("h:1,asyncTimeout=soon", "'asyncTimeout' must be a whole number")]
    [InlineData("h:1,abortConnect=maybe", "'abortConnect' must be true or false")]
    [InlineData("h:1,user=app", "'user' without 'password'")]
    [InlineData("redis://h:1", "looks like a URI")]
    [InlineData("::1:6379", "in brackets")]
    [InlineData("[::1:6379", "unclosed")]
    public void Malformed_or_unsupported_content_is_refused_naming_the_problem(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisOptions.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_printed_for_logs_never_show_the_password()
    {
        var options = RedisOptions.Parse("127.0.0.1:63799,password=s3cret-value,user=app");

        var text = options.ToString();

        Assert.DoesNotContain("s3cret-value", text, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:63799", text, StringComparison.Ordinal);
        Assert.Contains("password=*****", text, StringComparison.Ordinal);
    }
}
